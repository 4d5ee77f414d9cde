"""Pydantic shapes of the extraction API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from microcred.skills.extraction.extractor import Extraction, Mode


class ExtractRequest(BaseModel):
    text: str = Field(description="Free text: a job posting, course description or CV.")
    mode: Mode = Field(
        default="gazetteer",
        description="gazetteer (labels only, fast) or hybrid (adds sentence-embedding matches)",
    )
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class SkillMatchOut(BaseModel):
    uri: str
    label: str
    text: str = Field(description="The matched span as written")
    start: int
    end: int
    confidence: float
    method: str
    equivalents: list[str] = Field(
        default_factory=list,
        description="The same skill's URIs in another taxonomy (the O*NET technology an ESCO "
        "skill equals); the mention counts once, under uri",
    )


class ExtractResponse(BaseModel):
    mode: Mode
    language: str | None = Field(description="ISO 639-1 guess; None when too short to tell")
    truncated: bool
    skills: list[SkillMatchOut]
    uris: list[str] = Field(description="Distinct skill URIs in order of first mention")

    @classmethod
    def of(cls, extraction: Extraction, min_confidence: float = 0.0) -> ExtractResponse:
        kept = [m for m in extraction.skills if m.confidence >= min_confidence]
        return cls(
            mode=extraction.mode,
            language=extraction.language,
            truncated=extraction.truncated,
            skills=[
                SkillMatchOut(
                    uri=m.uri,
                    label=m.label,
                    text=m.text,
                    start=m.start,
                    end=m.end,
                    confidence=m.confidence,
                    method=m.method,
                    equivalents=list(m.equivalents),
                )
                for m in kept
            ],
            uris=list(dict.fromkeys(m.uri for m in kept)),
        )
