"""APPI Art. 26 incident classification: the four cases of enforcement rules Art. 7 and the Art. 8 deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers.alerts import AppiCase, Sensitivity, classify

FOUND = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_ordinary_data_few_persons_no_intent_is_not_reportable() -> None:
    """An ordinary-data incident touching up to 1,000 persons without unjust purpose yields no APPI case."""
    assert classify([Sensitivity.ORDINARY], 1_000, unjust_purpose=False, discovered_at=FOUND) is None


@pytest.mark.parametrize(("sensitivities", "subjects", "unjust", "expected"), [
    ([Sensitivity.SENSITIVE], 1, False, (AppiCase.SENSITIVE_DATA,)),
    ([Sensitivity.ORDINARY, Sensitivity.FINANCIAL], 1, False, (AppiCase.FINANCIAL_DAMAGE,)),
    ([Sensitivity.ORDINARY], 1, True, (AppiCase.UNJUST_PURPOSE,)),
    ([Sensitivity.ORDINARY], 1_001, False, (AppiCase.OVER_1000_PERSONS,)),
    ([Sensitivity.SENSITIVE, Sensitivity.FINANCIAL], 5_000, True,
     (AppiCase.SENSITIVE_DATA, AppiCase.FINANCIAL_DAMAGE, AppiCase.UNJUST_PURPOSE, AppiCase.OVER_1000_PERSONS)),
])
def test_each_case_is_recognised(sensitivities: list[Sensitivity], subjects: int, unjust: bool,
                                 expected: tuple[AppiCase, ...]) -> None:
    """Each of the four Art. 7 cases is reported on its own and all together."""
    incident = classify(sensitivities, subjects, unjust_purpose=unjust, discovered_at=FOUND)
    assert incident is not None
    assert incident.cases == expected


def test_deadlines_are_3_and_30_days() -> None:
    """速報 is due 3 days and 確報 30 days after discovery when no unjust purpose is involved."""
    incident = classify([Sensitivity.SENSITIVE], 1, unjust_purpose=False, discovered_at=FOUND)
    assert incident is not None
    assert incident.preliminary_report_due == FOUND + timedelta(days=3)
    assert incident.final_report_due == FOUND + timedelta(days=30)


def test_unjust_purpose_gets_60_days_even_with_other_cases() -> None:
    """確報 for an unjust-purpose leak is due in 60 days, also when another case applies too."""
    incident = classify([Sensitivity.SENSITIVE], 2_000, unjust_purpose=True, discovered_at=FOUND)
    assert incident is not None
    assert incident.final_report_due == FOUND + timedelta(days=60)


def test_deadlines_keep_the_callers_timezone() -> None:
    """Deadlines are aware datetimes in the discovery's zone (JST stays JST)."""
    jst = timezone(timedelta(hours=9))
    found = datetime(2026, 11, 20, 18, 0, tzinfo=jst)
    incident = classify([Sensitivity.FINANCIAL], 1, unjust_purpose=False, discovered_at=found)
    assert incident is not None
    assert incident.preliminary_report_due == datetime(2026, 11, 23, 18, 0, tzinfo=jst)


def test_naive_discovery_time_is_rejected() -> None:
    """A naive datetime cannot anchor a legal deadline."""
    with pytest.raises(ValueError, match="timezone-aware"):
        classify([Sensitivity.SENSITIVE], 1, unjust_purpose=False, discovered_at=datetime(2026, 11, 20))  # noqa: DTZ001


@given(st.sets(st.sampled_from(list(Sensitivity))), st.integers(min_value=0, max_value=10**7), st.booleans())
def test_any_reportable_incident_has_ordered_deadlines(sensitivities: set[Sensitivity], subjects: int,
                                                       unjust: bool) -> None:
    """Whenever a case applies, discovery < 速報 < 確報; and a case applies exactly when an input calls for one."""
    incident = classify(sensitivities, subjects, unjust_purpose=unjust, discovered_at=FOUND)
    reportable = unjust or subjects > 1_000 or bool(sensitivities & {Sensitivity.SENSITIVE, Sensitivity.FINANCIAL})
    assert (incident is not None) == reportable
    if incident is not None:
        assert FOUND < incident.preliminary_report_due < incident.final_report_due
