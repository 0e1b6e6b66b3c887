"""Initiative documents: reading them, validating them against their programme, the
principles they support, starting templates, and a portfolio of many.

- `reading`: any document format read into one neutral record (re-exported here, as the
  old module of this name offered it)
- `matching`: finding concepts' labels in free text (validation's justification warnings)
- `validation`: `kundskab validate`
- `principle_support`: which principles an initiative supports, on what ground; programme
  verdicts (`check --programme`)
- `templates`: `kundskab template PROGRAMME`
- `portfolios`: `kundskab portfolio`: coverage, holes and overlaps of many initiatives
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kundskab.documents.reading import (
        DCT,
        FIELDS,
        FORMATS,
        KS,
        MAX_BYTES,
        MAX_TRIPLES,
        RDF,
        READ_MESSAGES,
        Document,
        DocumentSource,
        Entry,
        FieldSpec,
        Opaque,
        ReadError,
        document_format,
        find_documents,
        iter_sources,
        parse_document,
        placeholders,
        read_document,
    )

__all__ = ["DCT", "FIELDS", "FORMATS", "KS", "MAX_BYTES", "MAX_TRIPLES", "RDF", "READ_MESSAGES", "Document",
           "DocumentSource", "Entry", "FieldSpec", "Opaque", "ReadError", "document_format", "find_documents",
           "iter_sources", "parse_document", "placeholders", "read_document"]


def __getattr__(name: str) -> Any:
    # Read on first use: `check` and the HTTP service import sub-modules of this package that
    # need no YAML, and reading.py imports PyYAML.
    if name not in __all__:
        raise AttributeError(f"module 'kundskab.documents' has no attribute {name!r}")
    from kundskab.documents import reading

    value = getattr(reading, name)
    globals()[name] = value
    return value
