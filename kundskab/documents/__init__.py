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
