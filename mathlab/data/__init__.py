"""Problem records, the program-backed generator, real-set loaders, dedup and decontamination."""
