"""Namespaces and fixed names shared by the modules (no heavy imports here)."""

KB = "https://w3id.org/kundskab/id/"
KS = "https://w3id.org/kundskab/schema#"
ONTOLOGY = "https://w3id.org/kundskab/schema"
CACHE_FORMAT = 3  # 3: an inferred link keeps its Danish note (note_da)

