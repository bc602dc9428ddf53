"""One module per area; each exposes ``run(ctx: BenchContext) -> list[Result]``."""
