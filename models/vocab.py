"""Every domain code a user sees, with its (中文, English) words: the one place they are written.

Pages, callbacks, exports, the A4 report and the CLI all read their words from here
(through ``web.i18n.label`` on screens), so a code reads the same everywhere. A code
missing from a table is a bug: ``tests/unit/test_vocab.py`` walks every code that occurs
in the demo database and in the rules file and asserts both words exist.
"""
from __future__ import annotations

Words = tuple[str, str]

# Counts under this size are shown as "<5" to leaders (re-identification risk).
SMALL_GROUP = 5

# --- four-colour warning levels, worst first ---------------------------------------------------
LEVELS: tuple[str, ...] = ("red", "orange", "yellow", "green")
LEVEL_WORDS: dict[str, Words] = {
    "red": ("红色", "Red"),
    "orange": ("橙色", "Orange"),
    "yellow": ("黄色", "Yellow"),
    "green": ("绿色", "Green"),
}

# --- who uses the portal ----------------------------------------------------------------------
ROLE_WORDS: dict[str, Words] = {
    "officer": ("民警", "Officer"),
    "manager": ("健康管理师", "Health manager"),
    "counsellor": ("心理咨询师", "Counsellor"),
    "leader": ("领导", "Leader"),
    "admin": ("系统管理员", "Administrator"),
}

# --- officers ---------------------------------------------------------------------------------
POST_TYPES: dict[str, Words] = {
    "patrol": ("巡警", "Patrol"),
    "community": ("社区民警", "Community policing"),
    "investigation": ("刑侦", "Investigation"),
    "traffic": ("交警", "Traffic"),
    "special": ("特警", "Special police"),
    "command": ("指挥调度", "Command centre"),
    "cyber": ("网安", "Cyber security"),
    "office": ("内勤", "Office"),
}
SEX_WORDS: dict[str, Words] = {"male": ("男", "Male"), "female": ("女", "Female")}

# --- units: one word for a unit of a level, one for "all units of that level" -------------------
UNIT_LEVELS: dict[str, Words] = {
    "province": ("省厅", "Province"),
    "city": ("市局", "City"),
    "district": ("分局", "District"),
    "station": ("派出所", "Station"),
    "department": ("机关部门", "Department"),
}
UNIT_LEVEL_GROUPS: dict[str, Words] = {
    "province": ("各省厅", "Provinces"),
    "city": ("各市局", "Cities"),
    "district": ("各分局", "Districts"),
    "station": ("各派出所", "Stations"),
    "department": ("各机关部门", "Departments"),
}

# --- where a reading came from ------------------------------------------------------------------
SOURCES: dict[str, Words] = {
    "exam": ("体检", "Exam"),
    "kiosk": ("健康小屋", "Kiosk"),
    "self": ("自测", "Self-measured"),
    "screening": ("心理筛查", "Screening"),
}

# --- China-PAR 10-year risk classes -----------------------------------------------------------
RISK_CLASSES: dict[str, Words] = {"low": ("低危", "Low"), "intermediate": ("中危", "Intermediate"),
                                  "high": ("高危", "High")}

# --- follow-ups -------------------------------------------------------------------------------
FOLLOWUP_KINDS: dict[str, Words] = {
    "phone": ("电话随访", "Phone call"),
    "recheck": ("复查", "Re-check"),
    "referral": ("转诊", "Referral"),
    "counselling": ("心理疏导", "Counselling"),
    "lifestyle": ("生活方式干预", "Lifestyle plan"),
}
FOLLOWUP_OUTCOMES: dict[str, Words] = {
    "improved": ("好转", "Improved"),
    "unchanged": ("无变化", "Unchanged"),
    "referred": ("已转诊", "Referred"),
    "declined": ("本人拒绝", "Declined"),
}
# stored states, then the two derived ones lists show ("overdue": open past its due date)
FOLLOWUP_STATUSES: dict[str, Words] = {
    "open": ("待处理", "Open"),
    "in_progress": ("处理中", "In progress"),
    "closed": ("已结案", "Closed"),
    "overdue": ("已超期", "Overdue"),
    "none": ("无跟进", "None"),
}

# --- campaigns --------------------------------------------------------------------------------
CAMPAIGN_KINDS: dict[str, Words] = {"steps": ("健步走", "Steps"), "quiz": ("知识答题", "Quiz"),
                                    "checkin": ("运动打卡", "Check-in")}
# what one day's entry of a kind measures, with the unit a total is written in
CAMPAIGN_KIND_DAILY: dict[str, Words] = {"steps": ("每日步数", "daily step count"),
                                         "quiz": ("每日得分", "daily score"),
                                         "checkin": ("每日打卡", "daily exercise")}
CAMPAIGN_KIND_UNITS: dict[str, Words] = {"steps": ("步", " steps"), "quiz": ("分", " points"),
                                         "checkin": ("次", " check-ins")}
CAMPAIGN_STATUSES: dict[str, Words] = {"upcoming": ("未开始", "Not started"), "running": ("进行中", "Running"),
                                       "finished": ("已结束", "Finished")}
# why an officer was given campaign points (points.reason)
POINT_REASON_WORDS: dict[str, Words] = {"active_day": ("活动日", "Active days"), "daily_target": ("达标日", "Days on target"),
                                   "full_week_bonus": ("整周达标奖励", "Full week on target")}
TEAM_SCORING: dict[str, Words] = {"mean": ("人均（未参与者按 0 计）", "mean per member (inactive = 0)"),
                                  "total": ("总量", "total"),
                                  "share_target": ("达标人数占比", "share meeting the daily target")}

# --- station devices: how a device looks on /admin/devices -------------------------------------
DEVICE_STATES: dict[str, Words] = {"ok": ("正常", "OK"), "amber": ("超时", "Stale"), "red": ("异常", "Alert")}

# --- imports ----------------------------------------------------------------------------------
IMPORT_KINDS: dict[str, Words] = {
    "hospital": ("医院体检", "Hospital"), "units": ("单位", "Units"), "officers": ("民警名册", "Officers"),
    "activity": ("活动数据", "Activity"), "device": ("设备", "Device"), "demo": ("演示数据", "Demo"),
    "boundaries": ("辖区边界", "Boundaries"),
}
IMPORT_STATUSES: dict[str, Words] = {"running": ("进行中", "Running"), "loaded": ("已导入", "Loaded"),
                                     "failed": ("失败", "Failed")}
QUARANTINE_STATUSES: dict[str, Words] = {"open": ("待处理", "Open"), "reprocessed": ("已重新导入", "Re-processed"),
                                         "discarded": ("已丢弃", "Discarded")}


def words(table: dict[str, Words], code: str | None) -> Words:
    """The (中文, English) words of a code; an unknown code reads as itself rather than failing a page."""
    if code is None:
        return ("", "")
    return table.get(code, (code, code))


def pair(table: dict[str, Words], code: str | None) -> dict[str, str]:
    """The words as {"code", "zh", "en"} for data handed to a screen or a report."""
    zh, en = words(table, code)
    return {"code": code or "", "zh": zh, "en": en}
