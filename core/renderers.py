"""The API's JSON renderer: DRF's output, byte for byte, written by orjson.

DRF's JSONRenderer runs the standard library's encoder (compact separators, UTF-8,
U+2028/U+2029 escaped for JavaScript). orjson writes the same text for the types an
API response holds (str, int, bool, None, lists, dicts, UUIDs) many times faster;
dates and times go through DRF's own encoder (`default`), as do decimals, lazy
strings and anything else orjson does not know. Indented output (`Accept:
application/json; indent=4`) or anything orjson refuses is handed to DRF's renderer.
A float is the same number, though its text may differ in the exponent of very small
or large values (orjson's `1e-7` for the standard library's `1e-07`).
"""

import orjson
from rest_framework import renderers

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (data is None or not self.compact or self.ensure_ascii
                or self.get_indent(accepted_media_type, renderer_context or {}) is not None):
            return super().render(data, accepted_media_type, renderer_context)
        encoder = self.encoder_class()
        try:
            body = orjson.dumps(data, default=encoder.default, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:
            body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return body
