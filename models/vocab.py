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


# --- accounts ---------------------------------------------------------------------------------
PASSWORD_PROBLEMS: dict[str, Words] = {
    "too_short": ("新密码至少需要 10 个字符。", "The new password needs at least 10 characters."),
    "too_long": ("新密码不能超过 200 个字符。", "The new password may have at most 200 characters."),
    "common": ("这是常见密码，容易被猜中，请换一个。", "This is a common password that is easy to guess: choose another."),
    "badge": ("新密码不能包含警号或用户名。", "The new password must not contain your badge or user name."),
    "birth_date": ("新密码不能包含出生日期数字。", "The new password must not contain the digits of your birth date."),
    "id_number": ("新密码不能包含身份证号码。", "The new password must not contain your ID number."),
    "mismatch": ("两次输入的新密码不一致。", "The two new passwords differ."),
    "wrong_current": ("当前密码不正确。", "The current password is wrong."),
}

ACCOUNT_ERRORS: dict[str, Words] = {
    "unknown_role": ("未知角色。", "Unknown role."),
    "username_missing": ("请填写用户名。", "Enter a user name."),
    "username_taken": ("该用户名已存在。", "This user name exists already."),
    "officer_needs_badge": ("民警账号需要填写已有民警的警号。", "An officer account needs the badge of an existing officer."),
    "officer_has_account": ("该民警已有账号：每名民警只能有一个账号。",
                            "This officer has an account already: one account per officer."),
    "scope_needs_unit": ("健康管理师和领导账号需要选择管辖单位。", "A manager or leader account needs a scope unit."),
    "unknown_unit": ("没有这个单位代码。", "No unit has this code."),
    "password_short": ("密码至少需要 10 个字符。", "The password needs at least 10 characters."),
    "no_user": ("没有这个账号。", "No such account."),
    "own_account": ("不能对自己的账号执行此操作。", "You cannot do this to your own account."),
    "bulk_header": ("CSV 第一行需要列名：用户名、角色、单位代码（或 username, role, unit）。",
                    "The CSV's first row needs the columns username, role and unit (or 用户名, 角色, 单位代码)."),
    "bulk_role": ("角色只能是健康管理师（manager）或领导（leader）。", "The role must be manager or leader."),
    "bulk_unreadable": ("文件无法读取：请上传 UTF-8 编码的 CSV 文件。", "The file cannot be read: upload a UTF-8 CSV file."),
}

ACCOUNT_STATUS: dict[str, Words] = {
    "active": ("正常", "active"),
    "pending": ("待激活", "waiting for activation"),
    "inactive": ("已停用", "inactive"),
    "delayed": ("登录受限", "sign-in delayed"),
}


def words(table: dict[str, Words], code: str | None) -> Words:
    """The (中文, English) words of a code; an unknown code reads as itself rather than failing a page."""
    if code is None:
        return ("", "")
    return table.get(code, (code, code))


def pair(table: dict[str, Words], code: str | None) -> dict[str, str]:
    """The words as {"code", "zh", "en"} for data handed to a screen or a report."""
    zh, en = words(table, code)
    return {"code": code or "", "zh": zh, "en": en}
