"""Request and response bodies of the approval endpoints (/api/v1/notices/{uid}/submit, ...)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from notices.notice.validation import NOTE_LIMIT

TIME_LIMIT = 100


class SubmitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"comment": "please check the diversion", "publish_at": "now"}]}
    )

    comment: str = Field(default="", max_length=NOTE_LIMIT, description="For the approvers")
    publish_at: str = Field(
        default="now",
        max_length=TIME_LIMIT,
        description="When to publish once approved: 'now' (at approval) or a time, as for notices",
    )


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"comment": "checked with the city"}]})

    comment: str = Field(default="", max_length=NOTE_LIMIT, description="For the submitter")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"comment": "name the diversion"}]})

    comment: str = Field(min_length=1, max_length=NOTE_LIMIT, description="What to change; sent to the submitter")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "gas leak, road closed now"}]})

    reason: str = Field(
        min_length=1, max_length=NOTE_LIMIT, description="Why it cannot wait; highlighted in the audit log"
    )


class ReviewOut(BaseModel):
    state: str = Field(description="submitted, approved, returned or bypassed (an emergency publication)")
    kind: str = Field(description="publish (a draft) or change (to a published notice)")
    submitted_by: str
    submitted_at: str
    comment: str
    decided_by: str
    decided_at: str | None
    decision_comment: str


class ApprovalOut(BaseModel):
    state: str = Field(description="draft, submitted, published (or scheduled) or cancelled")
    review: ReviewOut | None = Field(default=None, description="The latest submission, if any")
