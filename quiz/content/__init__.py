"""The quiz's content, as one feature: the files, their checks, drafts, versions, sign-off.

- the document and its files: document.py (every language's TOML text, the
  bundle a worker serves), file.py (reading and checking one file; the files
  themselves are in data/), locales.py (every language against English),
  consent_bump.py, diff.py;
- the rules a publish checks: principle.py (the site rule over every answer
  set), medical.py (which keys a clinician approves);
- the editor: fields.py (the fields by screen), edit.py (edits written with
  tomlkit), editing.py and drafts.py (a draft per editor), views.py
  (/staff/content), preview.py (the signed, uncached preview);
- publishing: versions.py (the table), publishing.py (publish, rollback,
  history: checked and audited), approval.py (clinical sign-off), live.py
  (each worker switches to the newest live version), cli.py (`flask content`).

Other features import what they use from here, never from a module inside.
"""

from quiz.content.approval import live_id, signoff_banner
from quiz.content.live import bundle_of, current_bundle, localized_content
from quiz.content.locales import shipped_contents
from quiz.content.medical import is_medical
from quiz.content.versions import copy_live

__all__ = [
    "bundle_of",
    "copy_live",
    "current_bundle",
    "is_medical",
    "live_id",
    "localized_content",
    "shipped_contents",
    "signoff_banner",
]
