/* The verdicts of `symbackprop verify`, in the page: correct, rounding, carried, wrong.
 *
 * A port of the steps of symbackprop/verify (tolerance.py: matches, within;
 * recompute.py: World; judge.py: the order of the verdicts, early rounding;
 * diagnose.py: the slip behind a wrong number) over a problem's model. What the steps
 * say and count is not written here: the constants, the statuses, the words of every
 * note and of every mistake, and the claim key of every quantity come from Python in
 * the model (`data.rules`: symbackprop/judging.py; `data.keys`; `data.mistakes`), and
 * the formulas (each node's equation, each edge's local derivative, the optimizer's
 * first step) are printed by SymPy's JavaScript printer from the engine's expressions
 * (symbackprop/render/jsmodel.py). Numbers are computed in doubles (the verifier uses
 * 30-digit floats, which gives the same verdicts wherever a number is not within 1e-9
 * of a unit's half) and printed from exact decimals, as symbackprop.numbers prints them.
 */
(function (global) {
  "use strict";

  /* ---------------------------------------------------------- decimal numbers, exactly
   * A decimal as Python's Decimal holds it: sign, coefficient (a BigInt) and exponent, so
   * that every number the page prints is printed as symbackprop.numbers prints it. */
  var TEN = BigInt(10);

  function dec(text) {
    var m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(String(text).trim());
    if (!m) return null;
    var frac = m[3] || "", digits = (m[2] + frac).replace(/^0+(?=\d)/, "") || "0";
    return {sign: m[1] === "-" ? 1 : 0, n: BigInt(digits),
            e: (m[4] ? parseInt(m[4], 10) : 0) - frac.length};
  }
  /* A double's certain digits (15), as verify prints its 30-digit recomputations by
   * their certain digits: 0.30 * -0.9299 is -0.27897, not -0.27896999999999997. */
  function decOfDouble(x) { return isFinite(x) ? dec(x.toPrecision(15)) : null; }
  /* A recomputation's certain digits: its noise is relative to the numbers it is made
   * from (``scale``, the largest), so no decimal below scale's 15th is kept and what is
   * left of a cancellation is 0 (verify's diagnose.certain, with its 27 digits). */
  function certainDec(x, scale) {
    var d = decOfDouble(x);
    if (d === null || isZero(d) || isZero(scale) || adjusted(d) >= adjusted(scale)) return d;
    return quantize(d, adjusted(scale) - 14, "half-even");
  }
  function pow10(k) { return TEN ** BigInt(k); }
  function isZero(d) { return d.n === BigInt(0); }
  function adjusted(d) { return isZero(d) ? 0 : String(d.n).length - 1 + d.e; }
  /* Both at the smaller exponent, as signed BigInts. */
  function aligned(a, b) {
    var e = Math.min(a.e, b.e);
    var x = a.n * pow10(a.e - e), y = b.n * pow10(b.e - e);
    return [a.sign ? -x : x, b.sign ? -y : y, e];
  }
  function compare(a, b) {
    var p = aligned(a, b);
    return p[0] < p[1] ? -1 : p[0] > p[1] ? 1 : 0;
  }
  function absDec(d) { return {sign: 0, n: d.n, e: d.e}; }
  function subtract(a, b) {
    var p = aligned(a, b), r = p[0] - p[1];
    return {sign: r < 0 ? 1 : 0, n: r < 0 ? -r : r, e: p[2]};
  }
  /* ``d`` with exponent ``e``: Decimal.quantize, rounding "half-even", "half-up" or "down". */
  function quantize(d, e, mode) {
    if (e <= d.e) return {sign: d.sign, n: d.n * pow10(d.e - e), e: e};
    var s = pow10(e - d.e), q = d.n / s, r = d.n % s, twice = r * BigInt(2);
    if (mode !== "down" && (twice > s || (twice === s && (mode === "half-up" || q % BigInt(2) === BigInt(1))))) {
      q += BigInt(1);
    }
    return {sign: d.sign, n: q, e: e};
  }
  function normalize(d) {
    if (isZero(d)) return {sign: d.sign, n: d.n, e: 0};
    var n = d.n, e = d.e;
    while (n % TEN === BigInt(0)) { n /= TEN; e += 1; }
    return {sign: d.sign, n: n, e: e};
  }
  /* Python's str(Decimal) (``scientific``) or format(Decimal, "f"). */
  function decText(d, scientific) {
    if (!scientific && isZero(d) && d.e > 0) d = {sign: d.sign, n: d.n, e: 0};
    var c = String(d.n), left = d.e + c.length;
    var dot = !scientific || (d.e <= 0 && left > -6) ? left : 1;
    var body;
    if (dot <= 0) body = "0." + "0".repeat(-dot) + c;
    else if (dot >= c.length) body = c + "0".repeat(dot - c.length);
    else body = c.slice(0, dot) + "." + c.slice(dot);
    var exp = left === dot ? "" : "E" + (left - dot >= 0 ? "+" : "") + (left - dot);
    return (d.sign ? "-" : "") + body + exp;
  }
  function plain(d) { return decText(d, false); }
  function stripZeros(text) { return text.replace(/0+$/, "").replace(/\.$/, ""); }
  /* symbackprop.numbers.format_number. */
  function formatNumber(d, places) {
    if (d === null) return "NaN";
    if (isZero(d)) return "0";
    var a = adjusted(d);
    if (a >= 15) return scientific(d, places);
    if (a < -5 && a < -places) return scientific(d, Math.max(places - 1, 0));
    var r = quantize(d, a >= -places ? -places : a - places + 1, "half-even");
    var same = compare(r, d) === 0;
    if (same) r = normalize(d);
    var text = plain(r);
    if (text.indexOf(".") >= 0 && same) text = stripZeros(text);
    return text === "-0" || text === "" ? "0" : text;
  }
  function scientific(d, places) {
    var c = String(d.n), exponent = adjusted(d);
    var m = quantize({sign: d.sign, n: d.n, e: 1 - c.length}, -places, "half-even");
    if (m.n >= pow10(places + 1)) { m = {sign: m.sign, n: m.n, e: m.e - 1}; exponent += 1; }
    return stripZeros(plain(m)) + "e" + (exponent >= 0 ? "+" : "-") + Math.abs(exponent);
  }

  /* ---------------------------------------------------------- the rules' words */

  function fill(template, fields) {
    return template.replace(/\{([a-z_]+)\}/g, function (all, name) {
      return name in fields ? String(fields[name]) : all;
    });
  }

  /* A number as written: its value, its exact decimal, one unit of its last digit
   * (claims.py's Number). null for what parse_number refuses. */
  function parseNumber(text, rules) {
    var clean = String(text).trim().replace(new RegExp(rules.minusSigns, "g"), "-");
    var comma = new RegExp("^(?:" + rules.decimalComma + ")$").exec(clean);
    if (comma) {
      if (comma[3].length === 3 && comma[2].replace(/^0+/, "")) return null;
      clean = comma[1] + comma[2] + "." + comma[3] + (comma[4] || "");
    }
    if (!new RegExp("^(?:" + rules.number + ")$").test(clean)) return null;
    var d = dec(clean);
    if (Math.abs(d.e) > rules.maxDigits || adjusted(d) > rules.maxDigits) return null;
    var scientific = /e/i.test(clean), value = parseFloat(clean);
    var exponent = scientific && isZero(d) ? -rules.zeroDecimals : d.e;
    return {text: clean, d: d, value: value, exponent: exponent, scientific: scientific,
            unit: parseFloat("1e" + exponent), decimals: Math.max(0, -exponent)};
  }

  function significantDigits(text) {
    return text.replace(/^[+-]/, "").split(/[eE]/)[0].replace(".", "").replace(",", "").replace(/^0+/, "").length;
  }

  /* "rounded" or "truncated" when the given number is the value cut to its digits. */
  function matches(given, v, rules) {
    if (!isFinite(v)) return null;
    var g = given.value, unit = given.unit, slack = unit * 1e-9;
    if (Math.abs(g - v) <= unit / 2 + slack) return rules.rounded;
    var sameSide = g !== 0 && (g > 0) === (v > 0);  // a 0 is never a truncation
    var d = Math.abs(v) - Math.abs(g);
    if (sameSide && -slack <= d && d < unit - slack) return rules.truncated;
    return null;
  }

  /* Close enough for rounding to explain it (see tolerance.within for the 3 conditions). */
  function within(given, v, band) {
    var g = given.value, unit = given.unit;
    if (!isFinite(v)) return false;
    if (g * v < 0 && (Math.abs(v) >= unit / 2 || given.scientific)) return false;
    var floor = given.scientific ? 0 : unit;  // a power of ten sets its own unit
    var tolerance = Math.min(band * unit, Math.max(Math.abs(v) / 2, floor));
    return Math.abs(g - v) <= tolerance * (1 + 1e-9);
  }

  /* A number written down by hand: rounded half up or truncated to `places` decimals. */
  function cut(value, mode, places) {
    if (!mode || !isFinite(value)) return value;
    var s = Math.pow(10, places), x = Math.abs(value) * s, whole = Math.floor(x);
    var frac = x - whole, eps = 1e-9;
    if (mode === "round" ? frac >= 0.5 - eps : frac > 1 - eps) whole += 1;
    var r = whole / s;
    return value < 0 ? -r : r;
  }

  /* ------------------------------------------------- the graph (derive.py's between) */

  function Graph(data, fns) {
    this.data = data;
    this.fns = fns;
    this.node = {};
    var self = this;
    data.nodes.forEach(function (n, i) { self.node[n.name] = {inputs: n.inputs, position: i}; });
    this.edge = {};
    data.edges.forEach(function (e) { self.edge[e.upper + "|" + e.lower] = e; });
    this._between = {};
    this._upstream = {};
  }
  Graph.prototype.isLeaf = function (n) { return n in this.data.leaves; };
  Graph.prototype.upstream = function (name) {
    if (this._upstream[name]) return this._upstream[name];
    var seen = {}, stack = [name];
    while (stack.length) {
      var n = stack.pop();
      if (this.node[n]) this.node[n].inputs.forEach(function (m) {
        if (!seen[m]) { seen[m] = true; stack.push(m); }
      });
    }
    return (this._upstream[name] = seen);
  };
  Graph.prototype.between = function (top, bottom) {
    var id = top + "|" + bottom;
    if (this._between[id]) return this._between[id];
    var result = {};
    if (top === bottom) { result[top] = true; return (this._between[id] = result); }
    var up = Object.assign({}, this.upstream(top)); up[top] = true;
    if (!up[bottom]) return (this._between[id] = result);
    var down = {}; down[bottom] = true;
    this.data.nodes.forEach(function (n) {
      if (up[n.name] && n.inputs.some(function (i) { return down[i]; })) down[n.name] = true;
    });
    Object.keys(up).forEach(function (n) { if (down[n]) result[n] = true; });
    result[bottom] = true;
    return (this._between[id] = result);
  };

  /* ------------------------------------------------- recompute.py's World */

  function World(graph, known, mode, places) {
    this.g = graph;
    this.known = known;  // claim key -> number
    this.mode = mode;
    this.places = places;
    this.memo = {};
  }
  /* The claim key under which a sheet would give q (a local derivative: where it is
   * the only path), from the model's table of keys. */
  World.prototype.claimKey = function (q) {
    var keys = this.g.data.keys;
    if (q[0] !== "local") return keys[q.join("|")] || null;
    return this.g.edge[q[1] + "|" + q[2]].single ? keys["deriv|" + q[1] + "|" + q[2]] || null : null;
  };
  World.prototype.get = function (q) {
    var id = q.join("|");
    if (!(id in this.memo)) {
      var key = this.claimKey(q);
      this.memo[id] = key !== null && key in this.known ? this.known[key]
        : this.compute(q, this.get.bind(this));
    }
    return this.memo[id];
  };
  World.prototype.recompute = function (q, deeper) {
    var self = this, key = this.claimKey(q);
    function get(sub) {
      if (key !== null && self.claimKey(sub) === key) return self.compute(sub, self.get.bind(self));
      return self.get(sub);
    }
    function getDeeper(sub) { return self.compute(sub, get); }
    return this.compute(q, deeper ? getDeeper : get);
  };
  World.prototype.bypassed = function (q) {
    var self = this, key = this.claimKey(q);
    return this.parts(q).map(function (p) { return self.claimKey(p); }).filter(function (k) {
      return k !== null && k !== key && k in self.known;
    });
  };
  /* The sheet's numbers the recomputation of q reads, and the quantities it computes. */
  World.prototype.walk = function (q, deeper) {
    var self = this, key = this.claimKey(q), found = {}, computed = [], seen = {};
    var stack = this.parts(q);
    if (deeper) stack = [].concat.apply([], stack.map(function (p) { return self.parts(p); }));
    while (stack.length) {
      var s = stack.pop(), id = s.join("|");
      if (seen[id]) continue;
      seen[id] = true;
      var k = this.claimKey(s);
      if (k !== null && k !== key && k in this.known) { found[k] = s; continue; }
      computed.push(s);
      stack.push.apply(stack, this.parts(s));
    }
    return {found: found, computed: computed};
  };
  World.prototype.sources = function (q, deeper) {
    var found = this.walk(q, deeper).found, order = this.g.data.index;
    return Object.keys(found).sort(function (a, b) {
      var oa = order[found[a][1]] || 0, ob = order[found[b][1]] || 0;
      return oa !== ob ? oa - ob : (a < b ? -1 : a > b ? 1 : 0);
    });
  };
  /* The nodes whose values the recomputation works out itself, in graph order. */
  World.prototype.computedValues = function (q) {
    var g = this.g, names = {};
    this.walk(q, false).computed.forEach(function (s) {
      if (s[0] === "value" && g.node[s[1]]) names[s[1]] = true;
    });
    return g.data.names.filter(function (n) { return names[n]; });
  };
  World.prototype.parts = function (q) {
    var g = this.g, kind = q[0];
    if (g.data.samples) return [];  // mini-batch means are not recomputed from a sheet
    if (kind === "value") {
      if (g.isLeaf(q[1])) return [];
      return g.node[q[1]].inputs.map(function (n) { return ["value", n]; });
    }
    if (kind === "local") {
      return g.edge[q[1] + "|" + q[2]].uses.map(function (n) { return ["value", n]; });
    }
    if (kind === "deriv") {
      var top = q[1], bottom = q[2], parts = [];
      if (top === bottom) return [];
      var inside = g.between(top, bottom);
      g.data.users[bottom].forEach(function (user) {
        if (inside[user]) parts.push(["deriv", top, user], ["local", user, bottom]);
      });
      return parts;
    }
    var name = q[1];
    if (g.isLeaf(name)) {
      if (g.data.leaves[name].kind === "parameter") {
        return [["value", name], ["deriv", g.data.output, name]];
      }
      return [["value", name]];
    }
    return g.node[name].inputs.map(function (n) { return ["after", n]; });
  };
  World.prototype.compute = function (q, get) {
    var g = this.g, d = g.data, kind = q[0], v = [];
    if (d.samples) return Number(d.exact[q.join("|")]);
    if (kind === "value") {
      if (g.isLeaf(q[1])) return d.leaves[q[1]].value;
      g.node[q[1]].inputs.forEach(function (n) { v[d.index[n]] = get(["value", n]); });
      return cut(g.fns.node[q[1]](v), this.mode, this.places);
    }
    if (kind === "local") {
      var edge = g.edge[q[1] + "|" + q[2]];
      edge.uses.forEach(function (n) { v[d.index[n]] = get(["value", n]); });
      return cut(g.fns.local[q[1] + "|" + q[2]](v), this.mode, this.places);
    }
    if (kind === "deriv") {
      var top = q[1], bottom = q[2], total = 0;
      if (top === bottom) return 1;
      var inside = g.between(top, bottom);
      d.users[bottom].forEach(function (user) {
        if (inside[user]) total += get(["deriv", top, user]) * get(["local", user, bottom]);
      });
      return total;
    }
    var name = q[1];
    if (g.isLeaf(name)) {
      if (d.leaves[name].kind !== "parameter") return get(["value", name]);
      v[d.index[name]] = get(["value", name]);
      v[g.fns.gradient] = get(["deriv", d.output, name]);
      return g.fns.update[name](v);
    }
    g.node[name].inputs.forEach(function (n) { v[d.index[n]] = get(["after", n]); });
    return cut(g.fns.node[name](v), this.mode, this.places);
  };

  /* ------------------------------------------------- judge.py: the verdicts */

  var MODES = [null, "round", "trunc"];  // judge.py's CUTS: none, rounded, truncated

  function Judge(data, fns) {
    this.g = new Graph(data, fns);
    this.rules = data.rules;
    this.exact = new World(this.g, {}, null, 0);
  }

  /* The exact value of a quantity (the verifier's `expected`), as an exact decimal. */
  Judge.prototype.exactDecimal = function (q) {
    var text = this.g.data.exact[q.join("|")];
    return text === undefined ? decOfDouble(this.exact.get(q)) : dec(text);
  };

  Judge.prototype.parse = function (text) { return parseNumber(text, this.rules); };

  /* Verdicts for the entries [{key, q, text}] in order, as judge.judge gives them; an
   * exam's question (data.asked) as grade marks it (examVerdict). */
  Judge.prototype.judge = function (entries) {
    var self = this, R = this.rules, band = R.band, verdicts = {}, given = {}, order = [];
    var asked = this.g.data.asked || {};
    entries.forEach(function (e) {
      var number = self.parse(e.text), read = "";
      if (number === null || e.key in verdicts) return;
      var question = asked[e.key];
      if (question && number.decimals < question.decimals) {
        // grade's read_answer: fewer decimals than asked are read with zeros for the rest
        var padded = plain(quantize(number.d, -question.decimals, "half-even"));
        read = fill(R.examNotes.padded, {decimals: question.decimals, read: padded});
        number = self.parse(padded);
      }
      var exact = self.exactDecimal(e.q);
      verdicts[e.key] = {key: e.key, q: e.q, given: number, exact: exact,
                         expected: Number(plain(exact)), status: "", note: "", sources: [],
                         recomputed: null, mistake: null, read: read};
      given[e.key] = number.value;
      order.push(e.key);
    });
    var all = order.map(function (k) { return verdicts[k]; });
    function accepted(v) { return R.accepted.indexOf(v.status) >= 0; }
    function pending() { return all.filter(function (v) { return !v.status; }); }
    function knownAccepted() {
      var known = {};
      all.forEach(function (v) { if (accepted(v)) known[v.key] = given[v.key]; });
      return known;
    }
    var CORRECT = R.statuses[0], ROUNDING = R.statuses[1], CARRIED = R.statuses[2],
        WRONG = R.statuses[3];

    // correct when cut to the digits written, rounding within the band
    all.forEach(function (v) {
      var how = matches(v.given, v.expected, R);
      if (how) {
        v.status = CORRECT;
        if (how === R.truncated) {
          v.note = fill(R.notes.truncated, {rounded: formatNumber(v.exact, v.given.decimals)});
        }
      } else if (within(v.given, v.expected, band)) {
        v.status = ROUNDING;
        var off = absDec(subtract(v.given.d, v.exact));
        off = {sign: 0, n: off.n, e: off.e - v.given.exponent};
        v.note = fill(R.notes.band, {off: plain(quantize(off, -1, "half-even")), band: R.bandText});
      }
    });

    // rounding: what follows from the accepted numbers with intermediates cut
    var byBand = all.filter(function (v) { return v.status === ROUNDING; });
    for (;;) {
      var known = knownAccepted(), worlds = {}, changed = false;
      pending().concat(byBand).forEach(function (v) {
        for (var i = 0; i < MODES.length; i++) {
          var places = v.given.decimals, id = MODES[i] + "|" + places;
          var world = worlds[id] || (worlds[id] = new World(self.g, known, MODES[i], places));
          var value = world.recompute(v.q, false);
          if (matches(v.given, value, R)) {
            changed = changed || !v.status;
            v.status = ROUNDING;
            v.recomputed = value;
            v.sources = world.sources(v.q, false);
            v.note = self.roundingNote(v, MODES[i], places, verdicts);
            break;
          }
        }
      });
      byBand = [];
      if (!changed) break;
    }

    this.earlyRounding(all, knownAccepted());

    // carried: what follows from all the sheet's numbers, wrong ones included
    var everything = {};
    pending().forEach(function (v) {
      for (var i = 0; i < MODES.length && !v.status; i++) {
        var places = v.given.decimals, id = MODES[i] + "|" + places;
        var world = everything[id] || (everything[id] = new World(self.g, given, MODES[i], places));
        for (var deeper = 0; deeper < 2; deeper++) {
          var value = world.recompute(v.q, !!deeper);
          var wrong = world.sources(v.q, !!deeper).filter(function (k) { return !accepted(verdicts[k]); });
          if (MODES[i] === null && !deeper && wrong.length) { v.recomputed = value; v.sources = wrong; }
          if (!wrong.length) continue;
          if (matches(v.given, value, R) || within(v.given, value, band)) {
            v.status = CARRIED; v.recomputed = value; v.sources = wrong;
            v.note = fill(R.notes.carried, {expected: self.expectedText(v),
                                            sources: self.list(wrong, verdicts)});
            var skipped = world.bypassed(v.q).filter(function (k) { return wrong.indexOf(k) < 0; });
            if (deeper && skipped.length) {
              v.note += fill(R.notes["bypassed"], {skipped: self.list(skipped, verdicts)});
            }
            break;
          }
        }
      }
    });

    pending().forEach(function (v) {
      v.status = WRONG;
      v.note = self.diagnose(v, verdicts, band);
    });
    all.forEach(function (v) { if (asked[v.key]) self.examVerdict(v, asked[v.key]); });
    return all;
  };

  /* symbackprop.judging.exam_verdict: the acceptance rule decides full points (|x − r| ≤
   * t in exact decimals, r the answer as stated, t the stated tolerance); the verdict
   * above explains the number beyond it. The note starts with the rule's clause. */
  Judge.prototype.examVerdict = function (v, question) {
    var R = this.rules;
    var inside = compare(absDec(subtract(v.given.d, dec(question.stated))),
                         dec(question.tolerance)) <= 0;
    var accepted = R.accepted.indexOf(v.status) >= 0;
    var clause = fill(R.examNotes[inside ? "within" : "outside"],
                      {tolerance: question.toleranceText, stated: question.stated});
    if (inside && !accepted) {
      v.status = R.statuses[1];
      v.note = clause;
      v.mistake = null;
    } else {
      if (!inside && accepted) v.status = R.statuses[2];
      v.note = [clause, v.note].filter(Boolean).join(R.partJoint);
    }
    v.note = [v.read, v.note].filter(Boolean).join(R.partJoint);
    v.inside = inside;
  };

  Judge.prototype.expectedText = function (v) {
    return formatNumber(v.exact, Math.max(v.given.decimals + 2, this.rules.minNotePlaces));
  };

  /* judge.py's _by_early_rounding: a number accepted only by the band follows when one
   * intermediate the sheet does not give was rounded to fewer decimals than it. */
  Judge.prototype.earlyRounding = function (all, known) {
    var self = this, R = this.rules, data = this.g.data;
    var plainWorld = new World(this.g, known, null, 0), tries = 0;
    for (var i = 0; i < all.length; i++) {
      var v = all[i];
      if (v.status !== R.statuses[1] || v.recomputed !== null) continue;
      var places = v.given.decimals, earlier = [];
      for (var e = places - 1; e >= Math.max(R.minEarlyDecimals, places - R.earlyDecimalsBelow); e--) {
        earlier.push(e);
      }
      var names = plainWorld.computedValues(v.q);
      search:
      for (var a = 0; a < names.length; a++) {
        for (var b = 0; b < earlier.length; b++) {
          if (tries >= R.maxEarlyTries) return;
          tries += 1;
          var exact = dec(data.exact["value|" + names[a]]);
          var rounded = quantize(exact, -earlier[b], "half-up");
          var sheet = Object.assign({}, known);
          sheet[data.keys["value|" + names[a]]] = Number(plain(rounded));
          var value = new World(this.g, sheet, null, places).recompute(v.q, false);
          if (matches(v.given, value, R)) {
            v.recomputed = value;
            v.note = fill(R.notes.early, {name: names[a], cut: plain(rounded), early: earlier[b],
                                          exact: formatNumber(exact, places + 2)});
            break search;
          }
        }
      }
    }
    void self;
  };

  Judge.prototype.list = function (keys, verdicts) {
    var R = this.rules;
    var shown = keys.slice(0, R.maxSources).map(function (k) {
      return fill(R.notes.source, {key: k, given: plain(verdicts[k].given.d)});
    });
    if (keys.length > R.maxSources) shown.push(fill(R.notes.more, {count: keys.length - R.maxSources}));
    return shown.join(R.listJoint);
  };

  /* A source of a rounding, and whether it was rounded early (judge.py's _early). */
  Judge.prototype.early = function (source, places) {
    var R = this.rules, given = source.given;
    var fields = {key: source.key, given: plain(given.d)};
    if (given.decimals < places && compare(source.exact, given.d) !== 0) {
      fields.how = matches(given, source.expected, R) || R.rounded;
      fields.decimals = given.decimals;
      fields.decimal_word = R.decimalWords[given.decimals === 1 ? 0 : 1];
      fields.exact = formatNumber(source.exact, places + 2);
      return fill(R.notes["source_early"], fields);
    }
    return fill(R.notes.source, fields);
  };

  Judge.prototype.roundingNote = function (v, mode, places, verdicts) {
    var self = this, R = this.rules, parts = [];
    if (v.sources.length) {
      var named = v.sources.slice(0, R.maxSources).map(function (k) { return self.early(verdicts[k], places); });
      if (v.sources.length > R.maxSources) named.push(fill(R.notes.more, {count: v.sources.length - R.maxSources}));
      parts.push(fill(R.notes.follows, {sources: named.join(R.listJoint)}));
    }
    if (mode) {
      parts.push(fill(R.notes[v.sources.length ? "cut_others" : "cut"],
                      {how: mode === "round" ? R.rounded : R.truncated, places: places}));
    }
    return parts.join(R.partJoint) || R.notes["from_exact"];
  };

  /* ------------------------------------------------- diagnose.py: the mistakes */

  /* The note for a wrong entry: the expected value, and the mistake when one fits. The
   * mistakes, their wrong values and sentences are the catalogue's
   * (symbackprop/mistakes.py), computed by the engine and listed in the model with their
   * numbers as exact decimals between the slot marks, printed here at the claim's
   * precision; the page adds only what a sheet gives: the gradient an update used, a
   * number copied. */
  Judge.prototype.diagnose = function (v, verdicts, band) {
    var R = this.rules, m = this.g.data.mistakes;
    var places = Math.max(v.given.decimals + 2, R.minNotePlaces);
    var expected = fill(R.notes.expected, {expected: formatNumber(v.exact, places)});
    var slot = new RegExp(R.slot[0] + "([^" + R.slot[1] + "]*)" + R.slot[1], "g");
    function words(sentence) {
      return sentence.replace(slot, function (all, text) { return formatNumber(dec(text), places); });
    }
    var later = {}, sheet = [];
    Object.keys(verdicts).forEach(function (k) {
      if (verdicts[k].sources.indexOf(v.key) >= 0) later[k] = true;
    });
    Object.keys(verdicts).forEach(function (k) {
      if (!later[k] && k !== v.key) sheet.push(k);
    });
    var tries = [], update = m.sheetUpdate[v.key];
    (m.byKey[v.key] || []).forEach(function (item, i, items) {
      tries.push(item);
      var next = items[i + 1];
      if (update && item[0] === m.ids.update && !(next && next[0] === m.ids.update) &&
          sheet.indexOf(update.gradient) >= 0) {
        var given = verdicts[update.gradient].given;
        tries.push([m.ids.update, update.w + update.rate * given.value,
                    update.sentence.replace("{given}", decText(given.d, true))]);
      }
    });
    if (significantDigits(v.given.text) >= R.minDigitsForCoincidence) {
      var kind = v.q[0] === "deriv" ? "derivative" : v.q[0];
      var same = m.quantities.filter(function (c) { return c[1] === kind; });
      var rest = m.quantities.filter(function (c) { return c[1] !== kind; });
      same.concat(rest).forEach(function (c) {
        if (c[0] !== v.key) tries.push([m.ids.other, c[2], m.templates.quantity.replace("{other}", c[0])]);
      });
      sheet.forEach(function (k) {
        tries.push([m.ids.other, verdicts[k].given.value, m.templates.copied.replace("{other}", k)]);
      });
    }
    var tight = Math.min(band, 1);
    for (var i = 0; i < tries.length; i++) {
      var value = tries[i][1];
      if (!isFinite(value) || value === v.expected) continue;
      if (matches(v.given, value, R) || within(v.given, value, tight)) {
        v.mistake = tries[i][0];
        return fill(R.notes["mistake"], {expected: expected, sentence: words(tries[i][2])});
      }
    }
    if (v.recomputed !== null && v.sources.length) {
      var sources = v.sources.slice(0, R.maxSources).map(function (k) {
        return fill(R.notes.source, {key: k, given: plain(verdicts[k].given.d)});
      }).join(R.listJoint);
      var scale = absDec(decOfDouble(v.expected) || dec("0"));
      v.sources.forEach(function (k) {
        var d = absDec(verdicts[k].given.d);
        if (compare(d, scale) > 0) scale = d;
      });
      return fill(R.notes["own_numbers"], {expected: expected, sources: sources,
                                          own: formatNumber(certainDec(v.recomputed, scale), places),
                                          given: v.given.text});
    }
    return expected;
  };

  global.SymbackpropJudge = {Judge: Judge, parseNumber: parseNumber, matches: matches,
                             within: within, cut: cut, formatNumber: formatNumber, dec: dec};
})(typeof window !== "undefined" ? window : globalThis);
