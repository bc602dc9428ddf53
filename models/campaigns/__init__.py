"""Health campaigns, one module per job (import from the module, not from the package).

A campaign's scope is a list of units; its members are the active officers in
those subtrees, grouped into teams at ``team_level`` (the ancestor unit at that
level). Activity lives in ``campaign_entry`` (one row per officer per day, the
highest value kept); flagged rows (implausible values) are never counted.

Functions take ``viewer``: any object with ``role``, ``unit_path`` (None = the
whole force) and ``officer_id`` — the callbacks pass ``web.access.Scope``.
Error messages are (zh, en) pairs; the web layer picks the language.

- ``rules``   what a campaign is: kinds, team levels, plausible values, the points
              rule and its defaults, status by date, the overall target
- ``access``  who may see and edit which campaign; the units in its scope; the
              errors NotVisible, NotAllowed and CampaignError
- ``members`` a campaign's members, teams and the entries that count so far
- ``stats``   the projection of the total (OLS) and "did it work?" (difference in
              differences)
- ``reads``   lists, progress, participation, points, leaderboards, the officer's
              own campaigns
- ``writes``  the edit form, validation, save_campaign, close and archive,
              award_points, the leaderboard-hiding preference
- ``entries`` the one write path of activity (``merge_entries``), used by device
              files (``ingest.activity``) and officers' own entries alike (check-in,
              hand-entered steps with their caps, the daily quiz's score). Precedence:
              one entry per officer, campaign and day, and the larger plausible value
              wins whether imported or entered by hand, so import, hand entry and
              re-import leave the same totals
- ``quiz``    a quiz campaign's question bank (editors) and the daily quiz (officers:
              no answer key before the one attempt of the day, explanations after)

Imports run one way: rules ← access ← members ← stats ← reads; writes stands on
rules and access; entries on writes; quiz on entries.
"""
