"""Each detector's id, severity and window, and the bilingual sentence that explains an alert."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from consumers.alerts import LocalizedText, Sensitivity, Severity
from consumers.policy import CompiledPolicy
from schemas.records import AccessEvent

_HALF_HOUR = 1800.0

# rule -> (severity, the event-time window its counts cover, in seconds)
RULES: dict[str, tuple[Severity, float]] = {
    "KD-BULK-EXPORT": (Severity.PAGE, _HALF_HOUR),
    "KD-FIRST-SEEN": (Severity.WARNING, _HALF_HOUR),
    "KD-OFF-HOURS": (Severity.WARNING, _HALF_HOUR),
    "KD-SNOOPING": (Severity.CRITICAL, _HALF_HOUR),
    "KD-VOLUME-SPIKE": (Severity.WARNING, _HALF_HOUR),
    "KD-DORMANT": (Severity.WARNING, _HALF_HOUR),
    "KD-DENIED-BURST": (Severity.CRITICAL, 600.0),
    "KD-RATE-CAP": (Severity.WARNING, _HALF_HOUR),
    "KD-POPULAR-SUBJECT": (Severity.CRITICAL, _HALF_HOUR),
}

_SENSITIVITY = {"ordinary": Sensitivity.ORDINARY, "sensitive": Sensitivity.SENSITIVE,
                "financial": Sensitivity.FINANCIAL}


@dataclass(frozen=True, slots=True)
class Evidence:
    count: int
    baseline: float | None = None
    new: list[str] = field(default_factory=list)


def sensitivities_of(compiled: CompiledPolicy | None, categories: Iterable[str]) -> set[Sensitivity]:
    found: set[Sensitivity] = set()
    if compiled is not None:
        for category in categories:
            known = compiled.policy.categories.get(category)
            if known is not None:
                found.add(_SENSITIVITY[known.sensitivity])
    return found


def explain(rule: str, event: AccessEvent, evidence: Evidence) -> tuple[LocalizedText, LocalizedText]:
    """(summary, description): the summary names the pattern, the description gives the numbers."""
    who, n = event["actor"]["id"], evidence.count
    base = f"{evidence.baseline:.1f}" if evidence.baseline is not None else "-"
    new = ", ".join(evidence.new)
    texts = {
        "KD-BULK-EXPORT": ("大量エクスポートの疑い", "Suspected bulk export",
                           f"{who} が30分間に {n} 件のレコードをエクスポート/印刷しました",
                           f"{who} exported or printed {n} records within half an hour"),
        "KD-FIRST-SEEN": ("初めての利用目的・データ項目", "First use of a purpose or data category",
                          f"{who} が過去 {base} 件のアクセスで使わなかった {new} を {n} 回使用しました",
                          f"{who} used {new}, unseen in their previous {base} accesses, {n} times"),
        "KD-OFF-HOURS": ("業務時間外のアクセス", "Access outside business hours",
                         f"{who} が業務時間外の30分間に {n} 件アクセスしました",
                         f"{who} made {n} accesses within half an hour outside business hours"),
        "KD-SNOOPING": ("担当外の閲覧の疑い", "Suspected snooping on unrelated subjects",
                        f"{who} が30分間に、これまで扱ったことのない本人 {n} 人の記録を開きました",
                        f"{who} opened records of {n} subjects they never handled before within half an hour"),
        "KD-VOLUME-SPIKE": ("アクセス量の急増", "Access volume spike",
                            f"{who} の30分間のアクセス {n} 件(通常 {base} 件)",
                            f"{who} made {n} accesses within half an hour (usual: {base})"),
        "KD-DORMANT": ("休眠アカウントの利用", "Dormant account active",
                       f"{base} 日間活動のなかったアカウント {who} が {n} 件アクセスしました",
                       f"account {who}, inactive for {base} days, made {n} accesses"),
        "KD-DENIED-BURST": ("拒否されたアクセスの集中", "Burst of denied accesses",
                            f"{who} のアクセスが10分間に {n} 回拒否されました",
                            f"{n} accesses by {who} were denied within ten minutes"),
        "KD-RATE-CAP": ("1時間あたりの上限超過", "Hourly records cap exceeded",
                        f"{who} が30分間に {n} 件のレコードにアクセスしました(ロールの上限 {base} 件)",
                        f"{who} touched {n} records within half an hour (role cap {base})"),
    }
    summary_ja, summary_en, detail_ja, detail_en = texts[rule]
    ids = f" (event {event['event_id']})"
    return LocalizedText(ja=summary_ja, en=summary_en), LocalizedText(ja=detail_ja + ids, en=detail_en + ids)
