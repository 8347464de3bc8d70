"""The exam as a QTI 1.2 package for Canvas: ``canvas-qti.zip`` with ``imsmanifest.xml``
and one assessment.

Canvas's importer ("Import existing content", QTI .zip file) reads QTI 1.2 in the form
Canvas itself exports: an ``<assessment>`` whose root section holds one *question
group* per slot (a ``<section>`` with ``<selection_number>1</selection_number>`` and its
points per item), so each student gets one variant of each question. Items carry
``question_type`` and ``points_possible`` metadata:

* ``numerical_question``: a ``response_str``/``render_fib fibtype="Decimal"``, scored by
  ``<or><varequal>r</varequal><and><vargte>r − t</vargte><varlte>r + t</varlte></and></or>``
  with ``r`` the answer as the question states it and ``t`` the stated tolerance
  (:func:`.precision.bounds`), each written as an exact decimal at the asked places.
  Canvas's importer (canvas-lms, ``gems/plugins/qti_exporter/lib/qti/numeric_interaction.rb``)
  keeps ``varequal`` as the exact answer and ``BigDecimal(varlte) − BigDecimal(varequal)``
  as the margin and ignores ``vargte``; exact strings make that margin the stated
  tolerance exactly, so Canvas applies the acceptance rule of :mod:`.precision`;
* ``multiple_choice_question``: a ``response_lid`` with one ``response_label`` per
  choice and the right one scored by ``<varequal>``.

Canvas quizzes render math written as ``\\( \\)`` with its MathJax, so the question text
is the same HTML as Moodle's, asking for a decimal point as Moodle's does.

The assessment and the manifest are named by :func:`exam_identifier` (the exercises,
the seed and a hash of the key), since Canvas merges an import into an existing quiz of
the same identifier: two different exams never share one.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile

from ..answerkey import shown
from ..markup import xml_tree_safe
from .model import Exam
from .precision import bounds, decimal_text
from .statement import prompt, statement, to_html

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
ASSESSMENT = "assessment.xml"
#: A fixed timestamp for the zip entries, so the same exam gives the same bytes.
STAMP = (2020, 1, 1, 0, 0, 0)


def _field(parent, label: str, entry: str) -> None:
    f = ET.SubElement(parent, "qtimetadatafield")
    ET.SubElement(f, "fieldlabel").text = label
    ET.SubElement(f, "fieldentry").text = entry


def _material(parent, html_text: str) -> None:
    material = ET.SubElement(parent, "material")
    ET.SubElement(material, "mattext", texttype="text/html").text = html_text


def points_text(value) -> str:
    """Points as Canvas writes them: always with a decimal point (4.0, not 4)."""
    text = repr(float(value))
    return text if "." in text or "e" in text else text + ".0"


def exam_identifier(exam: Exam) -> str:
    """``symbackprop-<exercises>-<seed>-<hash of the key>``: the same for the same exam,
    different for any two exams (other exercises, seed, variants or numbers)."""
    digest = hashlib.sha256(json.dumps(exam.key(), sort_keys=True).encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", exam.family).strip("-")[:60] or "exam"
    return f"symbackprop-{name}-{exam.seed}-{digest}"


def _item(variant, exercise, q, slot: int) -> ET.Element:
    item = ET.Element("item", ident=f"{variant.id}-q{slot}", title=f"{variant.id} q{slot} {q.ask}")
    meta = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
    kind = "numerical_question" if q.choices is None else "multiple_choice_question"
    _field(meta, "question_type", kind)
    _field(meta, "points_possible", points_text(q.points))
    presentation = ET.SubElement(item, "presentation")
    _material(presentation, to_html(f"{statement(variant, exercise)}\n\n{prompt(q, variant.solution, lms=True)}")
              + f"<p><small>Variant {variant.id}, question {slot}</small></p>")
    processing = ET.Element("resprocessing")
    ET.SubElement(ET.SubElement(processing, "outcomes"), "decvar", maxvalue="100", minvalue="0",
                  varname="SCORE", vartype="Decimal")
    condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
    test = ET.SubElement(condition, "conditionvar")
    if q.choices is None:
        response = ET.SubElement(presentation, "response_str", ident="response1", rcardinality="Single")
        ET.SubElement(ET.SubElement(response, "render_fib", fibtype="Decimal"), "response_label",
                      ident="answer1")
        low, answer, high = (decimal_text(d, q.decimals) for d in bounds(q.answer, q.decimals))
        either = ET.SubElement(test, "or")
        ET.SubElement(either, "varequal", respident="response1").text = answer
        interval = ET.SubElement(either, "and")
        ET.SubElement(interval, "vargte", respident="response1").text = low
        ET.SubElement(interval, "varlte", respident="response1").text = high
    else:
        response = ET.SubElement(presentation, "response_lid", ident="response1", rcardinality="Single")
        render = ET.SubElement(response, "render_choice")
        for i, choice in enumerate(q.choices):
            label = ET.SubElement(render, "response_label", ident=f"c{i}")
            _material(label, shown(choice, q.decimals))
        ET.SubElement(test, "varequal", respident="response1").text = f"c{q.correct}"
    ET.SubElement(condition, "setvar", action="Set", varname="SCORE").text = "100"
    item.append(processing)
    return item


def assessment_xml(exam: Exam, ident: str | None = None) -> str:
    root = ET.Element("questestinterop")
    assessment = ET.SubElement(root, "assessment", ident=ident or exam_identifier(exam),
                               title=exam.title)
    top = ET.SubElement(assessment, "section", ident="root_section")
    for exercise in exam.exercises:
        variants = [v for v in exam.variants if v.exercise == exercise.name]
        for slot in range(1, len(variants[0].questions) + 1):
            points = variants[0].questions[slot - 1].points
            group = ET.SubElement(top, "section", ident=f"{exercise.name}-q{slot}",
                                  title=f"{exercise.title}: question {slot}")
            selection = ET.SubElement(ET.SubElement(group, "selection_ordering"), "selection")
            ET.SubElement(selection, "selection_number").text = "1"
            ET.SubElement(ET.SubElement(selection, "selection_extension"),
                          "points_per_item").text = points_text(points)
            for variant in variants:
                group.append(_item(variant, exercise, variant.questions[slot - 1], slot))
    ET.indent(xml_tree_safe(root))
    text = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text.replace(
        "<questestinterop>", f'<questestinterop xmlns="{QTI_NS}">', 1) + "\n"


def manifest_xml(exam: Exam, ident: str | None = None) -> str:
    root = ET.Element("manifest", identifier=f"{ident or exam_identifier(exam)}-manifest",
                      xmlns=CP_NS)
    metadata = ET.SubElement(root, "metadata")
    ET.SubElement(metadata, "schema").text = "IMS Content"
    ET.SubElement(metadata, "schemaversion").text = "1.1.3"
    ET.SubElement(root, "organizations")
    resources = ET.SubElement(root, "resources")
    resource = ET.SubElement(resources, "resource", identifier="assessment",
                             type="imsqti_xmlv1p2", href=ASSESSMENT)
    ET.SubElement(resource, "file", href=ASSESSMENT)
    ET.indent(xml_tree_safe(root))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def qti_zip(exam: Exam) -> bytes:
    """The package's bytes: the manifest and the assessment, the same for the same exam."""
    buffer = io.BytesIO()
    ident = exam_identifier(exam)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("imsmanifest.xml", manifest_xml(exam, ident)),
                           (ASSESSMENT, assessment_xml(exam, ident))):
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
