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
    "auditor": ("审计员", "Auditor"),
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
    "self-report": ("本人填报", "Self-report"),  # questionnaires and risk factors an officer answers in the portal
}

# --- measured items: every code of the catalogue (models.items) ------------------------------
ITEM_WORDS: dict[str, Words] = {
    "height_cm": ("身高", "Height"), "weight_kg": ("体重", "Weight"), "bmi": ("体重指数", "BMI"),
    "waist_cm": ("腰围", "Waist"), "body_fat_pct": ("体脂率", "Body fat"),
    "visceral_fat": ("内脏脂肪等级", "Visceral fat"),
    "sbp": ("收缩压", "Systolic BP"), "dbp": ("舒张压", "Diastolic BP"), "pulse": ("脉搏", "Pulse"),
    "spo2": ("血氧饱和度", "SpO₂"), "fpg": ("空腹血糖", "Fasting glucose"), "ogtt2h": ("餐后2小时血糖", "2-h OGTT glucose"),
    "hba1c": ("糖化血红蛋白", "HbA1c"), "tc": ("总胆固醇", "Total cholesterol"), "tg": ("甘油三酯", "Triglycerides"),
    "hdl": ("高密度脂蛋白胆固醇", "HDL-C"), "ldl": ("低密度脂蛋白胆固醇", "LDL-C"), "ua": ("尿酸", "Uric acid"),
    "cr": ("肌酐", "Creatinine"), "alt": ("谷丙转氨酶", "ALT"), "ast": ("谷草转氨酶", "AST"),
    "phq9": ("PHQ-9 抑郁量表", "PHQ-9 depression"), "phq9_item9": ("PHQ-9 第9题", "PHQ-9 item 9"),
    "gad7": ("GAD-7 焦虑量表", "GAD-7 anxiety"), "steps": ("步数", "Steps"),
    "hb": ("血红蛋白", "Haemoglobin"), "wbc": ("白细胞计数", "White cells"), "plt": ("血小板计数", "Platelets"),
    "ggt": ("谷氨酰转肽酶", "GGT"), "urea": ("尿素", "Urea"), "egfr": ("估算肾小球滤过率", "eGFR"),
    "urine_protein": ("尿蛋白", "Urine protein"), "hbsag": ("乙肝表面抗原", "HBsAg"), "tsh": ("促甲状腺激素", "TSH"),
    "dx_hypertension": ("本人报告：已诊断高血压", "Self-reported: diagnosed hypertension"),
    "rx_hypertension": ("本人报告：服用降压药", "Self-reported: takes BP medicine"),
    "dx_diabetes": ("本人报告：已诊断糖尿病", "Self-reported: diagnosed diabetes"),
    "rx_diabetes": ("本人报告：使用降糖药或胰岛素", "Self-reported: takes glucose-lowering medicine or insulin"),
    # the risk-factor form (models.risk_factors): smoking 0 never / 1 former / 2 current, activity 0-2
    "smoking": ("本人报告：吸烟情况", "Self-reported: smoking"),
    "family_history_cvd": ("本人报告：早发心血管病家族史", "Self-reported: family history of early cardiovascular disease"),
    "physical_activity": ("本人报告：身体活动", "Self-reported: physical activity"),
}
# finding-type tests (models.items.FINDING_TEXT_COLUMNS) and their coded findings (FINDING_TEST)
FINDING_TESTS: dict[str, Words] = {
    "ecg": ("心电图", "ECG"), "ultrasound": ("腹部超声", "Abdominal ultrasound"), "chest": ("胸部影像", "Chest imaging"),
    "fundus": ("眼底检查", "Fundus examination"), "hearing": ("听力检查", "Hearing test"),
}
FINDING_WORDS: dict[str, Words] = {
    "af": ("心房颤动", "atrial fibrillation"), "aflutter": ("心房扑动", "atrial flutter"),
    "vt": ("室性心动过速", "ventricular tachycardia"), "avb3": ("三度（完全性）房室传导阻滞", "complete (third-degree) AV block"),
    "stemi": ("急性ST段抬高", "acute ST elevation"), "qtc_gt500": ("QTc 间期延长（>500 ms）", "QTc over 500 ms"),
    "avb2": ("二度房室传导阻滞", "second-degree AV block"), "avb1": ("一度房室传导阻滞", "first-degree AV block"),
    "lbbb": ("左束支传导阻滞", "left bundle branch block"), "rbbb": ("右束支传导阻滞", "right bundle branch block"),
    "sinus_tachy": ("窦性心动过速", "sinus tachycardia"), "sinus_brady": ("窦性心动过缓", "sinus bradycardia"),
    "pvc": ("室性早搏", "ventricular premature beats"), "pac": ("房性早搏", "atrial premature beats"),
    "st_t": ("ST-T 改变", "ST-T changes"), "lvh": ("左心室高电压", "left ventricular high voltage"),
    "fatty_liver": ("脂肪肝", "fatty liver"), "fatty_liver_severe": ("中重度脂肪肝", "moderate to severe fatty liver"),
    "gallstone": ("胆囊结石", "gallstones"), "gallbladder_polyp": ("胆囊息肉", "gallbladder polyp"),
    "kidney_stone": ("肾结石", "kidney stone"), "liver_cyst": ("肝囊肿", "liver cyst"), "kidney_cyst": ("肾囊肿", "kidney cyst"),
    "liver_mass": ("肝脏占位", "liver mass"), "kidney_mass": ("肾脏占位", "kidney mass"),
    "thyroid_nodule": ("甲状腺结节", "thyroid nodule"), "breast_nodule": ("乳腺结节", "breast nodule"),
    "prostate_enlarged": ("前列腺增生", "enlarged prostate"), "splenomegaly": ("脾大", "enlarged spleen"),
    "pulmonary_nodule": ("肺结节", "pulmonary nodule"), "lung_mass": ("肺部占位", "lung mass"),
    "pleural_effusion": ("胸腔积液", "pleural effusion"),
    "hypertensive_retinopathy": ("高血压性视网膜病变/视网膜动脉硬化", "hypertensive retinopathy"),
    "diabetic_retinopathy": ("糖尿病性视网膜病变", "diabetic retinopathy"),
    "fundus_haemorrhage": ("眼底出血", "retinal haemorrhage"),
    "hearing_loss": ("听力下降", "hearing loss"),
}
# guideline classes of the wider catalogue (models.clinical.classes_for)
CLASS_WORDS: dict[str, Words] = {
    "anaemia": ("贫血（WHO 标准）", "anaemia (WHO criterion)"), "normal": ("正常", "normal"),
    "G1": ("G1 正常或升高", "G1 normal or high"), "G2": ("G2 轻度下降", "G2 mildly decreased"),
    "G3a": ("G3a 轻至中度下降", "G3a mildly to moderately decreased"),
    "G3b": ("G3b 中至重度下降", "G3b moderately to severely decreased"),
    "G4": ("G4 重度下降", "G4 severely decreased"), "G5": ("G5 肾衰竭", "G5 kidney failure"),
    "negative": ("阴性", "negative"), "trace": ("弱阳性（±）", "trace (±)"), "positive": ("阳性", "positive"),

    "high_normal": ("正常高值", "high-normal"),
    "grade1": ("1级高血压", "grade 1 hypertension"), "grade2": ("2级高血压", "grade 2 hypertension"),
    "grade3": ("3级高血压", "grade 3 hypertension"),
    "underweight": ("体重过低", "underweight"), "overweight": ("超重", "overweight"), "obese": ("肥胖", "obese"),
    "pre_central_obesity": ("中心型肥胖前期", "pre-central obesity"), "central_obesity": ("中心型肥胖", "central obesity"),
    "IFG": ("空腹血糖受损", "impaired fasting glucose"), "diabetes": ("糖尿病水平", "diabetes range"),
    "diabetes_severe": ("严重升高", "severely raised"), "normal_a1c": ("未达糖尿病水平", "below diabetes range"),
    "appropriate": ("合适水平", "appropriate"), "ideal": ("理想水平", "ideal"),
    "borderline_high": ("边缘升高", "borderline high"), "high": ("升高", "high"),
    "low": ("降低", "low"), "normal_hdl": ("正常", "normal"),
    "normal_ua": ("正常", "normal"), "hyperuricemia": ("高尿酸血症", "hyperuricaemia"),
    "below_alert": ("未超过预警线", "below alert line"), "alt_raised": ("明显升高", "markedly raised"),
    "none": ("无抑郁症状", "none"), "mild": ("轻度", "mild"), "moderate": ("中度", "moderate"),
    "moderately_severe": ("中重度", "moderately severe"), "severe": ("重度", "severe"),
    "minimal": ("无焦虑症状", "minimal"),
}

# --- questionnaires an officer answers (models.questionnaires) and the risk-factor form (models.risk_factors)
INSTRUMENTS: dict[str, Words] = {"phq9": ("PHQ-9 抑郁症状筛查量表", "PHQ-9 depression questionnaire"),
                                 "gad7": ("GAD-7 焦虑症状筛查量表", "GAD-7 anxiety questionnaire")}
SMOKING_STATUS: dict[str, Words] = {"never": ("从不吸烟", "Never smoked"), "former": ("已戒烟", "Former smoker"),
                                   "current": ("目前吸烟", "Current smoker")}
ACTIVITY_LEVELS: dict[str, Words] = {
    "inactive": ("基本不运动", "Inactive"),
    "insufficient": ("有运动，但每周不足150分钟中等强度", "Some, under 150 minutes of moderate activity a week"),
    "active": ("每周150分钟以上中等强度运动", "150 minutes or more of moderate activity a week"),
}
YES_NO: dict[str, Words] = {"yes": ("是", "Yes"), "no": ("否", "No")}
# the fields of the risk-factor form: what China-PAR and the rules read from each
RISK_FACTOR_FIELDS: dict[str, Words] = {
    "smoking": ("吸烟情况", "Smoking"),
    "rx_hypertension": ("目前是否服用降压药", "Do you take blood-pressure medicine?"),
    "dx_diabetes": ("是否经医生诊断患有糖尿病", "Has a doctor diagnosed you with diabetes?"),
    "family_history_cvd": ("父母或兄弟姐妹中是否有人较早患心血管病（男性55岁前、女性65岁前患心肌梗死或脑卒中）",
                           "Did a parent, brother or sister have early cardiovascular disease (heart attack or stroke "
                           "before 55 in men, before 65 in women)?"),
    "physical_activity": ("身体活动", "Physical activity"),
}
# China-PAR's assumption where an input was never reported (the portrait says so)
RISK_FACTOR_UNREPORTED: dict[str, Words] = {
    "smoking": ("吸烟情况未填报，按不吸烟计算", "Smoking not reported: counted as a non-smoker"),
    "rx_hypertension": ("降压药服用情况未填报，按未服降压药计算", "BP medicine not reported: counted as untreated"),
    "dx_diabetes": ("糖尿病诊断未填报，按化验结果判断", "Diabetes diagnosis not reported: judged from lab values"),
    "family_history_cvd": ("家族史未填报，按无家族史计算", "Family history not reported: counted as none"),
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
                                       "finished": ("已结束", "Finished"), "closed": ("已关闭", "Closed"),
                                       "archived": ("已归档", "Archived")}
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
                                         "discarded": ("已丢弃", "Discarded"),
                                         "rejected": ("已驳回（不导入）", "Rejected (not loaded)")}
QUARANTINE_ERRORS: dict[str, Words] = {
    "no_row": ("没有这一隔离行。", "No such quarantined row."),
    "not_open": ("这一行已处理，不能再修改。", "This row has been dealt with already."),
    "not_correctable": ("这类内容（HL7/FHIR 消息）不能逐格修正：请修正来源后重新导入，或驳回。",
                        "This content (an HL7/FHIR message) cannot be corrected cell by cell: fix the source and load "
                        "it again, or reject the row."),
    "no_cell": ("这一行没有这一列。", "The row has no such column."),
    "reason_missing": ("请填写驳回原因。", "Enter the reason for rejecting the row."),
}
# the files an admin uploads on /admin/imports (each has its loader in ingest/)
UPLOAD_KINDS: dict[str, Words] = {"hospital": ("医院体检文件", "Hospital exam file"),
                                  "units": ("单位名册", "Unit roster"), "officers": ("民警名册", "Officer roster"),
                                  "activity": ("活动数据", "Campaign activity")}

# what a hospital's column may be mapped to besides a measured item (ITEM_WORDS)
MAPPING_FIELDS: dict[str, Words] = {"bp": ("血压（一格两值，如 150/96：收缩压/舒张压）", "Blood pressure (one cell, two values, "
                                           "e.g. 150/96: systolic/diastolic)"),
                                    "ignore": ("忽略此列", "Ignore this column")}

# --- background jobs (/admin/jobs) ------------------------------------------------------------
JOB_KINDS: dict[str, Words] = {
    "import": ("导入文件", "File import"),
    "reprocess": ("重新处理隔离行", "Re-process quarantine"),
    "roster_accounts": ("按名册开通账号", "Accounts from the roster"),
    "recompute": ("重新计算预警", "Recompute statuses"),
    "rules_impact": ("评估规则变更影响", "Impact of a rules draft"),
    "export": ("大批量导出", "Large export"),
    "check": ("后台自检", "Background self-check"),
}
JOB_STATUSES: dict[str, Words] = {"running": ("运行中", "Running"), "done": ("已完成", "Done"),
                                  "failed": ("失败", "Failed")}

# --- notifications (the bell): what each kind of message is about, for its filter and settings ---
NOTIFICATION_KINDS: dict[str, Words] = {
    # to an officer
    "exam_loaded": ("新体检结果", "New exam results"),
    "level_changed": ("预警等级变化", "Warning level changed"),
    "followup_scheduled": ("跟进安排", "Follow-up scheduled"),
    "screening_due": ("待完成的测评", "Screening due"),
    "campaign_event": ("活动消息", "Campaign news"),
    "weekly_review": ("本周回顾", "Week in review"),
    # to a health manager or counsellor
    "self_harm": ("自伤风险（需立即联系）", "Self-harm risk (act now)"),
    "new_red": ("新增红色预警", "New red warning"),
    "red_unconfirmed": ("红色预警待确认", "Red warning awaiting confirmation"),
    "followup_overdue": ("跟进已超期", "Follow-up overdue"),
    "kiosk_stale": ("健康小屋设备超时", "Kiosk gone stale"),
    # to a leader
    "weekly_summary": ("本周概况", "Weekly summary"),
    # to a health manager: an officer confirmed a follow-up or asked to reschedule it
    "followup_reply": ("民警回复跟进", "Officer replied to a follow-up"),
}

# what an officer answers to a follow-up (follow_up_reply.reply)
FOLLOWUP_REPLIES: dict[str, Words] = {
    "confirm": ("已确认", "Confirmed"),
    "reschedule": ("申请改期", "Asked to reschedule"),
}

# e-mail outbox states (mail_outbox.status)
MAIL_STATUSES: dict[str, Words] = {
    "pending": ("待发送", "Pending"), "sent": ("已发送", "Sent"), "failed": ("发送失败", "Failed"),
}

# the items a personal health plan may set a target for (health_target.code)
PLAN_ITEMS: dict[str, Words] = {
    "weight_kg": ("体重", "Weight"), "bmi": ("体重指数", "BMI"), "waist_cm": ("腰围", "Waist"),
    "sbp": ("收缩压（高压）", "Systolic blood pressure"), "dbp": ("舒张压（低压）", "Diastolic blood pressure"),
    "steps": ("每日步数", "Daily steps"), "fpg": ("空腹血糖", "Fasting glucose"),
}

# --- the warning rules in the database (models.rule_versions) and why a level changed --------------
RULE_VERSION_STATUSES: dict[str, Words] = {"draft": ("草稿", "Draft"), "published": ("生效中", "In force"),
                                           "retired": ("已停用", "Retired")}
HISTORY_CAUSES: dict[str, Words] = {"data": ("新数据", "New data"), "rules": ("规则变更", "Rule change")}

# --- the audit log: every action code written to audit_log (grep ``audit(`` and ``record(``) -------
AUDIT_ACTIONS: dict[str, Words] = {
    "set_health_target": ("设定健康目标", "Set a health target"),
    "view_health_plan": ("查看健康计划", "Viewed a health plan"),
    "followup_reply": ("民警回复跟进", "Officer replied to a follow-up"),
    "notification_prefs": ("修改通知设置", "Changed notification settings"),
    "login": ("登录", "Sign-in"),
    "login_failed": ("登录失败", "Failed sign-in"),
    "view_officer": ("查看健康画像", "Viewed a portrait"),
    "view_officer_denied": ("查看画像被拒绝", "Portrait refused"),
    "print_report": ("打印A4报告", "Printed a report"),
    "export": ("导出名单或报表", "Exported a list or table"),
    "export_quarantine": ("导出隔离行", "Exported quarantined rows"),
    "reprocess_quarantine": ("重新处理隔离行", "Re-processed quarantine"),
    "change_mapping": ("修改医院映射", "Changed a hospital mapping"),
    "assign_reading": ("指派设备读数", "Assigned a device reading"),
    "create_user": ("创建账号", "Created an account"),
    "unlock_user": ("解锁账号", "Unlocked an account"),
    "activate_user": ("启用账号", "Activated an account"),
    "deactivate_user": ("停用账号", "Deactivated an account"),
    "campaign_create": ("创建健康活动", "Created a campaign"),
    "campaign_update": ("修改健康活动", "Changed a campaign"),
    "campaign_close": ("关闭健康活动", "Closed a campaign"),
    "campaign_archive": ("归档健康活动", "Archived a campaign"),
    "campaign_question_create": ("新增活动题目", "Added a quiz question"),
    "campaign_question_update": ("修改活动题目", "Changed a quiz question"),
    "campaign_checkin": ("活动打卡", "Checked in to a campaign"),
    "campaign_quiz": ("完成每日答题", "Answered the daily quiz"),
    "campaign_steps": ("手动填报步数", "Entered steps by hand"),
    "followup_open": ("发起随访", "Opened a follow-up"),
    "followup_note": ("记录随访", "Added a follow-up note"),
    "followup_progress": ("随访处理中", "Follow-up in progress"),
    "followup_assign": ("指派随访", "Assigned a follow-up"),
    "followup_close": ("随访结案", "Closed a follow-up"),
    "view_audit": ("查看审计日志", "Viewed the audit log"),
    "export_audit": ("导出审计日志", "Exported the audit log"),
    "export_own_data": ("下载本人数据", "Downloaded own data"),
    "export_officer_data": ("代为导出个人数据", "Exported an officer's data on request"),
    "break_glass": ("紧急越权查看", "Break-the-glass access"),
    "purge": ("按保存期限清除", "Retention purge"),
    # written by the session hardening of issue 15 (on main since this table was started)
    "logout": ("退出登录", "Sign-out"),
    "session_ended": ("会话被结束", "Session ended"),
    "access_denied": ("请求被拒绝", "Request refused"),
    "clear_login_delay": ("解除登录延迟", "Cleared a sign-in delay"),
    "view_warnings_list": ("查看预警名单", "Viewed the warnings list"),
    "view_followup": ("查看随访", "Viewed a follow-up"),
    "view_workbench": ("查看工作台名单", "Viewed the workbench lists"),
    "accounts_from_roster": ("按名册批量开通账号", "Created accounts from the roster"),
    "bulk_create_users": ("批量创建账号", "Created accounts from a file"),
    "edit_user": ("修改账号角色或范围", "Changed an account's role or scope"),
    "reset_account": ("重置账号（新激活码）", "Reset an account (new activation code)"),
    "activation_code_accepted": ("激活码验证通过", "Activation code accepted"),
    "activated": ("账号已激活", "Account activated"),
    "password_changed": ("修改密码", "Changed the password"),
    "password_change_refused": ("修改密码被拒绝", "Password change refused"),
    "sso_refused": ("单点登录请求被拒绝", "Single sign-on header refused"),
    "view_followup_context": ("准备发起随访", "Prepared a follow-up"),
    # the psychological access of issue 16
    "grant_psych": ("授予心理健康权限", "Granted psychological access"),
    "revoke_psych": ("撤销心理健康权限", "Revoked psychological access"),
    # officers take part (issue 19): questionnaires, risk factors, screening rounds
    "questionnaire_submit": ("填写心理测评问卷", "Answered a questionnaire"),
    "risk_factors_submit": ("填报危险因素", "Reported risk factors"),
    "screening_round_create": ("安排心理筛查", "Scheduled a screening round"),
    "view_screening_completion": ("查看筛查完成情况", "Viewed screening completion"),
    # imports in the browser and background jobs (issue 18)
    "upload_import": ("上传导入文件（试运行）", "Uploaded an import file (dry run)"),
    "confirm_import": ("确认导入文件", "Confirmed an import"),
    "correct_quarantine": ("修正隔离行", "Corrected a quarantined row"),
    "reject_quarantine": ("驳回隔离行", "Rejected a quarantined row"),
    # the rule editor of issue 18
    "rules_draft_created": ("创建预警规则草稿", "Created a draft of the warning rules"),
    "rules_draft_saved": ("保存预警规则草稿", "Saved a draft of the warning rules"),
    "rules_draft_refused": ("预警规则草稿未通过校验", "Draft of the warning rules refused"),
    "rules_draft_discarded": ("放弃预警规则草稿", "Discarded a draft of the warning rules"),
    "rules_impact": ("查看规则变更影响名单", "Viewed the impact of a rules draft"),
    "rules_published": ("发布预警规则版本", "Published a warning rules version"),
    "rules_seeded": ("从规则文件建立首个规则版本", "Seeded the first rules version from the file"),
}
# actions about one named officer (target "officer:<badge>"), as opposed to lists that contain them
AUDIT_NAMED_ACTIONS: tuple[str, ...] = (
    "view_officer", "print_report", "followup_open", "followup_note", "followup_progress", "followup_assign",
    "followup_close", "export_officer_data", "break_glass", "view_followup_context",
)
# actions flagged to admins in the audit viewer
AUDIT_FLAGGED_ACTIONS: tuple[str, ...] = ("break_glass",)


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
    "psych_manager_only": ("只有健康管理师可被授予心理健康权限。", "Only health managers are granted psychological access."),
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
