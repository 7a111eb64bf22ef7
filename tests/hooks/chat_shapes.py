"""The message shapes Slack and Microsoft Teams document, as checks: required fields, types, limits.

Written from the references, not from our renderer:
- Slack Block Kit (docs.slack.dev/reference/block-kit): a message has `text` (the
  fallback) and at most 50 `blocks`; a header holds a plain_text object of at most
  150 characters; a section has `text` (at most 3000) or `fields` (at most 10, each
  at most 2000), or both; a context has 1 to 10 elements; a text object is
  {type: plain_text|mrkdwn, text: non-empty string}, `emoji` only on plain_text,
  `verbatim` only on mrkdwn; block_id at most 255.
- Adaptive Cards 1.4 (adaptivecards.io/explorer) as a Teams Workflows webhook takes
  them: {type: "message", attachments: [{contentType:
  "application/vnd.microsoft.card.adaptive", content: card}]}; a card has type
  "AdaptiveCard", a version "major.minor", a body of elements and optional actions;
  TextBlock needs `text` (string) and takes wrap (bool), size, weight and color from
  fixed enumerations; FactSet needs `facts`, each {title, value} strings;
  Action.OpenUrl needs an absolute `url` and takes a `title`.
No official JSON schema for either ships in a PyPI or npm package (the adaptivecards
npm package carries TypeScript, not the schema), so these checks stand in for one.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "image", "rich_text", "video", "file", "input"}


def _text_object(value: Any, where: str, limit: int) -> None:
    assert isinstance(value, dict), f"{where}: a text object must be an object"
    assert value.get("type") in ("plain_text", "mrkdwn"), f"{where}: type must be plain_text or mrkdwn"
    text = value.get("text")
    assert isinstance(text, str) and text, f"{where}: text must be a non-empty string"
    assert len(text) <= limit, f"{where}: {len(text)} characters, at most {limit}"
    if "emoji" in value:
        assert value["type"] == "plain_text" and isinstance(value["emoji"], bool), f"{where}: emoji"
    if "verbatim" in value:
        assert value["type"] == "mrkdwn" and isinstance(value["verbatim"], bool), f"{where}: verbatim"
    assert set(value) <= {"type", "text", "emoji", "verbatim"}, f"{where}: unknown keys {set(value)}"


def check_block_kit_message(message: Any) -> None:
    """Raise AssertionError naming the first place where `message` is not a valid Block Kit message."""
    assert isinstance(message, dict)
    assert isinstance(message.get("text"), str) and message["text"], "text: the fallback is required"
    blocks = message.get("blocks")
    assert isinstance(blocks, list) and 0 < len(blocks) <= 50, "blocks: 1 to 50"
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        assert isinstance(block, dict) and block.get("type") in BLOCK_TYPES, f"{where}: unknown block type"
        if "block_id" in block:
            assert isinstance(block["block_id"], str) and len(block["block_id"]) <= 255
        kind = block["type"]
        if kind == "header":
            _text_object(block.get("text"), f"{where}.text", 150)
            assert block["text"]["type"] == "plain_text", f"{where}: a header is plain_text"
            assert set(block) <= {"type", "text", "block_id"}
        elif kind == "section":
            assert "text" in block or "fields" in block, f"{where}: a section needs text or fields"
            if "text" in block:
                _text_object(block["text"], f"{where}.text", 3000)
            if "fields" in block:
                fields = block["fields"]
                assert isinstance(fields, list) and 0 < len(fields) <= 10, f"{where}.fields: 1 to 10"
                for number, field in enumerate(fields):
                    _text_object(field, f"{where}.fields[{number}]", 2000)
            assert set(block) <= {"type", "text", "fields", "block_id", "accessory", "expand"}
        elif kind == "context":
            elements = block.get("elements")
            assert isinstance(elements, list) and 0 < len(elements) <= 10, f"{where}.elements: 1 to 10"
            for number, element in enumerate(elements):
                _text_object(element, f"{where}.elements[{number}]", 3000)
            assert set(block) <= {"type", "elements", "block_id"}


_VERSION = re.compile(r"^\d+\.\d+$")
_SIZES = {"Default", "Small", "Medium", "Large", "ExtraLarge"}
_WEIGHTS = {"Default", "Lighter", "Bolder"}
_COLOURS = {"Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"}


def _absolute_url(value: Any, where: str) -> None:
    assert isinstance(value, str), f"{where}: url must be a string"
    parts = urlsplit(value)
    assert parts.scheme in ("http", "https") and parts.netloc, f"{where}: url must be absolute"


def _card_element(element: Any, where: str) -> None:
    assert isinstance(element, dict) and isinstance(element.get("type"), str), f"{where}: an element needs a type"
    if element["type"] == "TextBlock":
        assert isinstance(element.get("text"), str), f"{where}.text: required string"
        assert isinstance(element.get("wrap", False), bool)
        assert element.get("size", "Default") in _SIZES, f"{where}.size"
        assert element.get("weight", "Default") in _WEIGHTS, f"{where}.weight"
        assert element.get("color", "Default") in _COLOURS, f"{where}.color"
        assert set(element) <= {"type", "text", "wrap", "size", "weight", "color", "isSubtle", "maxLines", "id"}
    elif element["type"] == "FactSet":
        facts = element.get("facts")
        assert isinstance(facts, list) and facts, f"{where}.facts: required list"
        for number, fact in enumerate(facts):
            assert set(fact) == {"title", "value"}, f"{where}.facts[{number}]: title and value"
            assert isinstance(fact["title"], str) and isinstance(fact["value"], str)
    else:
        raise AssertionError(f"{where}: element type {element['type']!r} is not one this card should use")


def check_adaptive_card_message(message: Any) -> None:
    """Raise AssertionError naming the first place where `message` is not a Teams Workflows card message."""
    assert isinstance(message, dict) and message.get("type") == "message"
    attachments = message.get("attachments")
    assert isinstance(attachments, list) and len(attachments) == 1
    attachment = attachments[0]
    assert attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
    card = attachment.get("content")
    assert isinstance(card, dict) and card.get("type") == "AdaptiveCard"
    assert isinstance(card.get("version"), str) and _VERSION.match(card["version"]), "version: 'major.minor'"
    body = card.get("body")
    assert isinstance(body, list) and body, "body: a list of elements"
    for index, element in enumerate(body):
        _card_element(element, f"body[{index}]")
    for index, action in enumerate(card.get("actions", [])):
        assert action.get("type") == "Action.OpenUrl", f"actions[{index}]: only Action.OpenUrl"
        _absolute_url(action.get("url"), f"actions[{index}]")
        assert isinstance(action.get("title", ""), str)


def card_texts(message: dict[str, Any]) -> list[str]:
    """Every Markdown text of a card message: TextBlock texts and fact values."""
    card = message["attachments"][0]["content"]
    texts = []
    for element in card["body"]:
        if element["type"] == "TextBlock":
            texts.append(element["text"])
        elif element["type"] == "FactSet":
            texts.extend(fact["value"] for fact in element["facts"])
    return texts
