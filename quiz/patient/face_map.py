"""The result's face map: where each chosen area is, and which treatment fits it.

Drawn on the server as inline SVG (quiz/templates/patient/_face_map.html), so it
costs no request and no script, and reads the same with JavaScript off. Each
chosen area gets a numbered mark at its place on a simple face; the legend
beside it says the same in text, number by number, with the products named
for that area. Relax marks are circles, fill marks squares and an area neither
treats (lost volume above the nose) an outlined diamond, so the map does not
rely on colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from quiz.core.scoring import Result

# Centres of each area's marks in the map's 200 × 250 viewBox; paired areas have two.
AREA_SPOTS: dict[str, tuple[tuple[int, int], ...]] = {
    "forehead": ((100, 50),),
    "between_brows": ((100, 84),),
    "crows_feet": ((38, 102), (162, 102)),
    "under_nose": ((82, 150), (118, 150)),
    "cheeks": ((52, 140), (148, 140)),
    "around_mouth": ((100, 176),),
    "marionette": ((76, 200), (124, 200)),
}


@dataclass(frozen=True)
class Mark:
    number: int
    area: str
    label: str
    treatment: str  # relax | fill | consult (its treatment does not treat the concern)
    spots: tuple[tuple[int, int], ...]
    products: tuple[str, ...]  # the product ids named for this area


def face_map(result: Result) -> tuple[Mark, ...]:
    """One numbered mark per chosen area, in the order the quiz lists the areas."""
    return tuple(
        Mark(
            i,
            fit.option.id,
            fit.option.label,
            fit.fit,
            AREA_SPOTS.get(fit.option.id, ()),
            fit.products,
        )
        for i, fit in enumerate(result.areas, start=1)
    )
