"""The Flask plumbing every audience shares, and the keys the WSGI layers leave in the environ.

The layers themselves are put in order in quiz/stack.py; a layer marks a
request here and Flask (or a later layer) reads the mark.
"""

CONTENT_BUNDLE = "quiz.content_bundle"  # the content version this request took (live switch)
UNCACHED = "quiz.render_cache.skip"  # a staff preview of a draft: never kept
FRESH_MARKERS = "quiz.render_cache.fresh"  # name -> marker for values made anew per request
FUNNEL_EVENTS = "quiz.funnel.events"  # where the render cache collects a page's events
UNCOUNTED = "quiz.funnel.uncounted"  # a staff preview: not a patient, not counted
PREVIEW_STAFF = "quiz.preview.staff"  # whose draft a preview shows
SPA_ORIGINS = "quiz.spa.origins"  # /s/<slug>/…: the origins that may frame that spa's quiz
SPA_STAMP = "quiz.spa.stamp"  # /s/<slug>/…: changes with the spa's details (render cache key)
