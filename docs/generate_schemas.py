"""Write docs/schemas/*.json: the JSON Schema of a case and of each answer, from the typed
models in kundskab.edges.models (the same models the HTTP API's OpenAPI description uses).

    python docs/generate_schemas.py
"""

from __future__ import annotations

import json
from pathlib import Path

from kundskab.edges.models import json_schemas

TARGET = Path(__file__).resolve().parent / "schemas"


def render() -> dict[str, str]:
    return {f"{stem}.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
            for stem, schema in json_schemas().items()}


if __name__ == "__main__":
    TARGET.mkdir(exist_ok=True)
    for name, text in render().items():
        (TARGET / name).write_text(text, encoding="utf-8")
        print(f"wrote {TARGET / name}")
