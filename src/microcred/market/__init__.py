"""Job-market analytics: postings ingestion (DuckDB / Parquet) and skill-demand queries."""
