"""Leads: storing a patient's callback request, querying, exporting, erasing; the lead views.

store.py (a lead and its outbox rows in one transaction), query.py
(LeadFilter), export.py (CSV, Excel), erasure.py (erase, purge), cli.py
(`flask leads`), views.py (the lead list and page) and exports.py (the
export downloads) on the staff console.
"""

from quiz.leads.query import LeadFilter
from quiz.leads.store import Consent, Contact, store_lead

__all__ = ["Consent", "Contact", "LeadFilter", "store_lead"]
