"""The rules KP001–KP011: each reads one event against one compiled policy and explains any hit.

Reasons are written in Japanese and English (and Vietnamese when the policy declares it) and
name the concrete actor, role, action, purpose, categories and recipient involved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from consumers.policy.compiled import CompiledPolicy, CompiledRole
from consumers.policy.decision import RuleHit
from consumers.policy.model import LegalException, Severity
from consumers.policy.requests import Restriction
from schemas.records import AccessEvent

_RESTRICTION_NAMES = {
    "suspend_use": ("利用停止", "suspension of use", "đình chỉ sử dụng"),
    "erasure": ("消去", "erasure", "xoá"),
    "stop_provision": ("第三者提供の停止", "stop of third-party provision", "ngừng cung cấp cho bên thứ ba"),
}


@dataclass(frozen=True, slots=True)
class Context:
    cp: CompiledPolicy
    event: AccessEvent
    # The actor's roles that exist in the policy and may be held by its actor type.
    roles: tuple[CompiledRole, ...]
    # The claimed legal exception when it exists and covers this kind of access, else None.
    basis: LegalException | None
    restrictions: frozenset[Restriction]

    def hit(self, rule: str, severity: Severity, clause: str, ja: str, en: str, vi: str) -> RuleHit:
        return RuleHit(rule, severity, clause, ja, en, vi if self.cp.vi else None)

    def names(self, categories: Iterable[str]) -> tuple[str, str, str]:
        labels = [(self.cp.label(c), c) for c in sorted(categories)]
        return (
            "、".join(f"{label.ja}({c})" for label, c in labels),
            ", ".join(f"{label.en} ({c})" for label, c in labels),
            ", ".join(f"{label.vi or label.en} ({c})" for label, c in labels),
        )

    def held(self) -> list[str]:
        """The event's categories except never-held ones, which KP007 alone reports."""
        never = self.cp.policy.never_held
        return sorted({c for c in self.event["data_categories"] if c not in never})


def unknown_roles(ctx: Context) -> Iterator[RuleHit]:
    """KP001: every role must exist in the policy and suit the actor's type."""
    actor, clause = ctx.event["actor"], ctx.cp.policy.clauses.access_control
    if not actor["roles"]:
        yield ctx.hit("KP001", "critical", clause, f"アクター {actor['id']} にロールがありません",
                      f"actor {actor['id']} has no role", f"tác nhân {actor['id']} không có vai trò nào")
    for role in sorted(set(actor["roles"])):
        known = ctx.cp.roles.get(role)
        if known is None:
            yield ctx.hit("KP001", "critical", clause,
                          f"ロール「{role}」は組織 {ctx.cp.policy.org} のポリシーにありません(アクター {actor['id']})",
                          f"role {role!r} is not defined in the {ctx.cp.policy.org} policy (actor {actor['id']})",
                          f"vai trò {role!r} không có trong chính sách {ctx.cp.policy.org} (tác nhân {actor['id']})")
        elif actor["type"] not in known.role.actor_types:
            yield ctx.hit("KP001", "critical", known.role.clause,
                          f"ロール「{role}」は種別 {actor['type']} のアクター {actor['id']} には付与できません",
                          f"role {role!r} may not be held by {actor['type']} actor {actor['id']}",
                          f"vai trò {role!r} không dành cho tác nhân loại {actor['type']} ({actor['id']})")


def least_privilege(ctx: Context) -> Iterator[RuleHit]:
    """KP002: some role of the actor must grant this action on each category for this purpose."""
    if not ctx.roles:
        return  # KP001 already explains an actor with no usable role
    event = ctx.event
    action, purpose = event["action"], event["purpose"]
    granted: set[str] = set()
    for role in ctx.roles:
        # A legal basis lifts the purpose bound, never the bound on actions and categories.
        granted |= role.any_purpose.get(action, set()) if ctx.basis else role.categories(purpose, action)
    missing = [c for c in ctx.held() if c not in granted]
    if missing:
        ja, en, vi = ctx.names(missing)
        roles, actor = ", ".join(r.role.id for r in ctx.roles), event["actor"]["id"]
        yield ctx.hit("KP002", "critical", ctx.cp.policy.clauses.access_control,
                      f"ロール {roles} には目的「{purpose}」で {ja} を {action} する権限がありません(アクター {actor})",
                      f"roles {roles} grant no {action} of {en} for purpose {purpose!r} (actor {actor})",
                      f"vai trò {roles} không được phép {action} {vi} cho mục đích {purpose!r} (tác nhân {actor})")


def undeclared_purpose(ctx: Context) -> Iterator[RuleHit]:
    """KP003: the purpose must be one the organisation declared (目的外利用 otherwise)."""
    purpose = ctx.event["purpose"]
    if ctx.basis is None and purpose not in ctx.cp.policy.purposes:
        yield ctx.hit("KP003", "critical", ctx.cp.policy.clauses.purposes,
                      f"目的「{purpose}」は {ctx.cp.policy.org} の利用目的として公表されていません(目的外利用)",
                      f"purpose {purpose!r} is not a declared purpose of use of {ctx.cp.policy.org}",
                      f"mục đích {purpose!r} không phải mục đích sử dụng đã công bố của {ctx.cp.policy.org}")


def purpose_scope(ctx: Context) -> Iterator[RuleHit]:
    """KP004: a declared purpose must cover the action and every ordinary/financial category."""
    declared = ctx.cp.policy.purposes.get(ctx.event["purpose"])
    if ctx.basis is not None or declared is None:
        return
    action = ctx.event["action"]
    if action not in declared.actions:
        yield ctx.hit("KP004", "warning", declared.clause,
                      f"利用目的「{declared.label.ja}」は操作 {action} を含みません",
                      f"purpose {declared.label.en!r} does not cover the action {action}",
                      f"mục đích {declared.label.vi or declared.label.en!r} không bao gồm thao tác {action}")
    missing = [c for c in ctx.held() if c not in declared.categories and c not in ctx.cp.sensitive]
    if missing:
        ja, en, vi = ctx.names(missing)
        yield ctx.hit("KP004", "warning", declared.clause,
                      f"利用目的「{declared.label.ja}」は {ja} を対象としていません",
                      f"purpose {declared.label.en!r} does not cover {en}",
                      f"mục đích {declared.label.vi or declared.label.en!r} không bao gồm {vi}")


def unnamed_recipient(ctx: Context) -> Iterator[RuleHit]:
    """KP005: disclosure only to a named recipient unless a legal exception applies."""
    recipient = ctx.event["recipient"]
    if ctx.event["action"] != "disclose" or ctx.basis is not None or recipient in ctx.cp.policy.recipients:
        return
    ja, en, vi = ctx.names(ctx.event["data_categories"])
    yield ctx.hit("KP005", "page", ctx.cp.policy.clauses.third_party,
                  f"公表されていない提供先 {recipient} への同意なき第三者提供です({ja})",
                  f"third-party provision without consent to {recipient!r}, which is not a named recipient ({en})",
                  f"cung cấp cho bên thứ ba {recipient!r} không được nêu tên, không có sự đồng ý ({vi})")


def recipient_scope(ctx: Context) -> Iterator[RuleHit]:
    """KP006: a named recipient may receive only its listed categories, for its listed purposes."""
    named = ctx.cp.policy.recipients.get(ctx.event["recipient"] or "")
    if ctx.event["action"] != "disclose" or ctx.basis is not None or named is None:
        return
    missing = [c for c in ctx.held() if c not in named.categories]
    if missing:
        ja, en, vi = ctx.names(missing)
        yield ctx.hit("KP006", "critical", named.clause,
                      f"提供先「{named.label.ja}」が受け取れない項目です: {ja}",
                      f"recipient {named.label.en!r} may not receive {en}",
                      f"bên nhận {named.label.vi or named.label.en!r} không được nhận {vi}")
    purpose = ctx.event["purpose"]
    if purpose not in named.purposes:
        yield ctx.hit("KP006", "critical", named.clause,
                      f"提供先「{named.label.ja}」への提供は目的「{purpose}」では認められていません",
                      f"recipient {named.label.en!r} may not receive data for purpose {purpose!r}",
                      f"bên nhận {named.label.vi or named.label.en!r} không được nhận dữ liệu cho mục đích {purpose!r}")


def never_held(ctx: Context) -> Iterator[RuleHit]:
    """KP007: the organisation states it never holds these categories; an access means it does."""
    for category in sorted(set(ctx.event["data_categories"])):
        entry = ctx.cp.policy.never_held.get(category)
        if entry is not None:
            yield ctx.hit("KP007", "page", entry.clause,
                          f"{ctx.cp.policy.org} は「{entry.label.ja}」を保有しないと表明しています",
                          f"{ctx.cp.policy.org} states it never holds {entry.label.en} ({category})",
                          f"{ctx.cp.policy.org} tuyên bố không bao giờ lưu giữ {entry.label.vi or entry.label.en}")


def sensitive_without_purpose(ctx: Context) -> Iterator[RuleHit]:
    """KP008: 要配慮個人情報 needs a purpose that names the category explicitly."""
    if ctx.basis is not None:
        return
    declared = ctx.cp.policy.purposes.get(ctx.event["purpose"])
    covered = declared.categories if declared is not None else frozenset()
    for category in sorted(set(ctx.event["data_categories"]) & ctx.cp.sensitive - covered):
        entry = ctx.cp.policy.categories[category]
        yield ctx.hit("KP008", "page", entry.clause,
                      f"要配慮個人情報「{entry.label.ja}」を、それを明示的に含まない目的「{ctx.event['purpose']}」で扱っています",
                      f"sensitive category {entry.label.en!r} accessed for purpose {ctx.event['purpose']!r}, "
                      "which does not cover it explicitly",
                      f"dữ liệu nhạy cảm {entry.label.vi or entry.label.en!r} bị truy cập cho mục đích "
                      f"{ctx.event['purpose']!r} không bao gồm rõ ràng")


def subject_restricted(ctx: Context) -> Iterator[RuleHit]:
    """KP009: an active suspension/erasure (any access but delete) or stop-provision (disclose) binds."""
    action = ctx.event["action"]
    applicable = {"suspend_use", "erasure"} if action != "delete" else set()
    if action == "disclose":
        applicable.add("stop_provision")
    active = sorted(ctx.restrictions & applicable)
    if not active or ctx.basis is not None:
        return
    subject = ctx.event["subject_id"]
    ja, en, vi = ("・".join(_RESTRICTION_NAMES[k][i] for k in active) for i in range(3))
    yield ctx.hit("KP009", "critical", ctx.cp.policy.clauses.subject_rights,
                  f"本人 {subject} から{ja}の請求が有効な間に {action} が行われました",
                  f"{action} of subject {subject} while a {en} request is in force",
                  f"{action} dữ liệu của {subject} trong khi yêu cầu {vi} đang có hiệu lực")


def retention_expired(ctx: Context) -> Iterator[RuleHit]:
    """KP010: data kept past its retention period may not be used (deleting it is the point)."""
    collected = ctx.event["collected_at"]
    if collected is None or ctx.event["action"] == "delete":
        return
    age = ctx.event["occurred_at"] - collected
    expired = [c for c in ctx.held() if c in ctx.cp.retention and age > ctx.cp.retention[c]]
    if expired:
        ja, en, vi = ctx.names(expired)
        days = age.days
        yield ctx.hit("KP010", "warning", ctx.cp.policy.clauses.retention,
                      f"{ja} は保存期間を過ぎています(取得から {days} 日)",
                      f"{en} is past its retention period ({days} days since collection)",
                      f"{vi} đã quá thời hạn lưu trữ ({days} ngày kể từ khi thu thập)")


def legal_basis(ctx: Context) -> Iterator[RuleHit]:
    """KP011: a claimed legal basis is recorded for review; an unknown or inapplicable one is a violation."""
    claimed = ctx.event["legal_basis"]
    if claimed is None:
        return
    if ctx.basis is not None:
        label = ctx.basis.label
        yield ctx.hit("KP011", "info", ctx.basis.clause,
                      f"法令上の例外「{label.ja}」({claimed})に基づく取扱いです。要確認として記録します",
                      f"access relies on the legal exception {label.en!r} ({claimed}); recorded for review",
                      f"truy cập dựa trên ngoại lệ pháp lý {label.vi or label.en!r} ({claimed}); ghi lại để xem xét")
        return
    exception = ctx.cp.policy.legal_exceptions.get(claimed)
    if exception is None:
        yield ctx.hit("KP011", "critical", ctx.cp.policy.clauses.third_party,
                      f"法的根拠「{claimed}」は {ctx.cp.policy.org} のポリシーにありません",
                      f"legal basis {claimed!r} is not defined in the {ctx.cp.policy.org} policy",
                      f"căn cứ pháp lý {claimed!r} không có trong chính sách {ctx.cp.policy.org}")
    else:
        scope = "provide" if ctx.event["action"] == "disclose" else "use"
        yield ctx.hit("KP011", "critical", exception.clause,
                      f"法令上の例外「{exception.label.ja}」は {scope} には適用できません",
                      f"legal exception {exception.label.en!r} does not permit {scope}",
                      f"ngoại lệ pháp lý {exception.label.vi or exception.label.en!r} không áp dụng cho {scope}")


RULES: tuple[Callable[[Context], Iterator[RuleHit]], ...] = (
    unknown_roles, least_privilege, undeclared_purpose, purpose_scope, unnamed_recipient, recipient_scope,
    never_held, sensitive_without_purpose, subject_restricted, retention_expired, legal_basis,
)
