"""Custom search attribute keys, in a module importing only temporalio.common (sandbox-safe).

None of them ever holds PII: stages, queues, officer ids, product, amount band values,
grade, bucket. `ALL` is what `creditflow up` registers on the dev server.
"""

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CREDIT_STAGE = SearchAttributeKey.for_keyword("CreditStage")
CREDIT_QUEUE = SearchAttributeKey.for_keyword("CreditQueue")
CREDIT_ASSIGNEE = SearchAttributeKey.for_keyword("CreditAssignee")
CREDIT_PRODUCT = SearchAttributeKey.for_keyword("CreditProduct")
CREDIT_GRADE = SearchAttributeKey.for_keyword("CreditGrade")
CREDIT_OUTCOME = SearchAttributeKey.for_keyword("CreditOutcome")
CREDIT_BUCKET = SearchAttributeKey.for_keyword("CreditBucket")
CREDIT_SLA_DUE_AT = SearchAttributeKey.for_datetime("CreditSlaDueAt")
CREDIT_AMOUNT = SearchAttributeKey.for_float("CreditAmount")
CREDIT_WATCH_LIST = SearchAttributeKey.for_bool("CreditWatchList")

ALL: list[SearchAttributeKey] = [
    CREDIT_STAGE, CREDIT_QUEUE, CREDIT_ASSIGNEE, CREDIT_PRODUCT, CREDIT_GRADE, CREDIT_OUTCOME,
    CREDIT_BUCKET, CREDIT_SLA_DUE_AT, CREDIT_AMOUNT, CREDIT_WATCH_LIST,
]



def application_at_start(product: str, amount: float) -> TypedSearchAttributes:
    """What a new application is indexed with when it is started: visible to officers' searches at once
    (before any worker has run it), and the workflow's first task has nothing left to upsert."""
    return TypedSearchAttributes([SearchAttributePair(CREDIT_STAGE, "awaiting_documents"),
                                  SearchAttributePair(CREDIT_PRODUCT, product),
                                  SearchAttributePair(CREDIT_AMOUNT, float(amount))])


def line_at_start() -> TypedSearchAttributes:
    """A new credit line is current and off the watch list: nothing is owed yet."""
    return TypedSearchAttributes([SearchAttributePair(CREDIT_BUCKET, "current"),
                                  SearchAttributePair(CREDIT_WATCH_LIST, False)])


# temporal CLI `--search-attribute Name=Type` spelling
CLI_TYPES = {
    "KEYWORD": "Keyword", "DATETIME": "Datetime", "DOUBLE": "Double", "FLOAT": "Double", "BOOL": "Bool", "INT": "Int",
}


def cli_flags() -> list[str]:
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={CLI_TYPES[key.indexed_value_type.name]}"]
    return flags
