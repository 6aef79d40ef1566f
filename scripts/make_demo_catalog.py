"""Write the Trailhead Outfitters demo catalog: ``textcart/demo_store/catalog.jsonl``.

Trailhead Outfitters is the fictional US running, hiking and outdoor shop that the demo and
the tests use. Its product lines (name, brand, category, price, selling points, description,
colourways) are written out by hand below. Each line becomes one product per colourway, with
the line's size run; per-size stock, markdowns, ratings and review counts come from a seeded
``random.Random(7)``, so every run writes the same bytes. A few products that the scripted
conversations talk about are pinned (stock and price) so the stories stay true.

Run from the repository root:

    .venv/bin/python scripts/make_demo_catalog.py                  # rewrite the committed file
    .venv/bin/python scripts/make_demo_catalog.py --out /tmp/c.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 7
URL_PREFIX = "https://trailhead.example/products/"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "textcart" / "demo_store" / "catalog.jsonl"
SOLD_OUT_SHARE = 0.08
MARKDOWN_SHARE = 0.16
NEW_COLOURWAY_SHARE = 0.06

MEN_SHOE = tuple(f"{n / 2:g}" for n in range(14, 27))  # 7 .. 13 in half sizes
WOMEN_SHOE = tuple(f"{n / 2:g}" for n in range(10, 23))  # 5 .. 11 in half sizes
WHOLE_SIZES = tuple(str(n) for n in range(7, 14))
APPAREL = ("XS", "S", "M", "L", "XL", "XXL")
SOCKS_GLOVES = ("S", "M", "L", "XL")
PACK = ("S/M", "M/L")
VEST = ("XS/S", "M/L", "XL")
GAITER = ("S/M", "L/XL")
ONE_SIZE = ("One Size",)

# Colourway name -> (SKU suffix, plain colour words a shopper would use).
PALETTE: dict[str, tuple[str, tuple[str, ...]]] = {
    "Lake Blue": ("BLU", ("blue",)),
    "Midnight Navy": ("NVY", ("navy",)),
    "Black": ("BLK", ("black",)),
    "Black/White": ("BKW", ("black", "white")),
    "Black/Volt": ("BKV", ("black", "yellow")),
    "Moss Green": ("MOS", ("green",)),
    "Olive": ("OLV", ("olive",)),
    "Olive/Black": ("OLB", ("olive", "black")),
    "Ember Red": ("RED", ("red",)),
    "Trail Orange": ("ORG", ("orange",)),
    "Navy/Orange": ("NVO", ("navy", "orange")),
    "Glacier Teal": ("TEA", ("teal",)),
    "Teal/Coral": ("TCR", ("teal", "orange")),
    "Volt Yellow": ("VLT", ("yellow",)),
    "Mustard": ("MUS", ("yellow",)),
    "Sunset Pink": ("PNK", ("pink",)),
    "Coral": ("CRL", ("orange", "pink")),
    "Dusk Purple": ("PUR", ("purple",)),
    "Plum": ("PLM", ("purple",)),
    "Lavender": ("LAV", ("purple",)),
    "Slate Grey": ("SLT", ("grey",)),
    "Charcoal": ("CHR", ("grey",)),
    "Heather Grey": ("HTR", ("grey",)),
    "Smoke": ("SMK", ("grey",)),
    "Stone": ("STN", ("grey", "tan")),
    "Sand": ("SND", ("tan",)),
    "Saddle Brown": ("BRN", ("brown",)),
    "Rust": ("RST", ("orange", "brown")),
    "Cloud White": ("WHT", ("white",)),
    "Sky Blue": ("SKY", ("blue",)),
    "Cobalt": ("CBT", ("blue",)),
    "Mint": ("MNT", ("green",)),
    "Forest": ("FOR", ("green",)),
}


@dataclass(frozen=True)
class Line:
    """One hand-written product line (a model); each colourway becomes a product."""

    code: str
    name: str
    brand: str
    category: str
    fit: str  # "men", "women" or "unisex"
    sizes: tuple[str, ...]
    price: float
    rating: float
    colourways: tuple[str, ...]
    points: tuple[str, ...]
    description: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Pin:
    """Fixed stock and price for a product a scripted conversation depends on."""

    sold_out: tuple[str, ...] = ()
    markdown: float | None = None


def gendered(
    code: str,
    name: str,
    *,
    men: tuple[str, ...],
    women: tuple[str, ...],
    men_point: str,
    women_point: str,
    sizes: tuple[str, ...] | None = None,
    **shared: Any,
) -> list[Line]:
    """Build the men's and women's versions of a line that share copy and price.

    Footwear takes the men's or women's shoe size run; other lines pass their own `sizes`.
    """
    is_shoe = shared["category"].startswith("footwear/")
    points = shared.pop("points")
    return [
        Line(
            code=f"{code}-M",
            name=f"Men's {name}",
            fit="men",
            sizes=MEN_SHOE if is_shoe else sizes or APPAREL,
            colourways=men,
            points=(*points, men_point),
            **shared,
        ),
        Line(
            code=f"{code}-W",
            name=f"Women's {name}",
            fit="women",
            sizes=WOMEN_SHOE if is_shoe else sizes or APPAREL,
            colourways=women,
            points=(*points, women_point),
            **shared,
        ),
    ]


LINES: list[Line] = [
    # --- Trail running shoes ---------------------------------------------------------------
    *gendered(
        "RIDGE-TR",
        "Ridgeline Trail Runner",
        brand="Trailhead",
        category="footwear/trail running shoes",
        price=145.0,
        rating=4.6,
        men=(
            "Lake Blue",
            "Black",
            "Trail Orange",
            "Moss Green",
            "Slate Grey",
            "Navy/Orange",
            "Ember Red",
            "Cobalt",
        ),
        women=(
            "Lake Blue",
            "Black",
            "Sunset Pink",
            "Glacier Teal",
            "Lavender",
            "Teal/Coral",
            "Mint",
            "Coral",
        ),
        points=(
            "Vibram Megagrip outsole with 4.5 mm lugs",
            "6 mm drop (30 mm heel, 24 mm forefoot)",
            "flexible rock plate under the forefoot",
            "quick-draining mesh upper with a gusseted tongue",
        ),
        men_point="weighs 275 g (men's 9)",
        women_point="weighs 232 g (women's 7)",
        description=(
            "Our one-shoe quiver for the trail: equally happy on fire roads and rooty "
            "singletrack. A lively foam midsole keeps the climbs from feeling like a slog, "
            "and the sticky outsole holds on wet rock. True to size with a secure midfoot; "
            "runners between sizes usually go up half a size."
        ),
        tags=("trail", "running", "neutral"),
    ),
    *gendered(
        "RIDGE-GTX",
        "Ridgeline GTX Trail Runner",
        brand="Trailhead",
        category="footwear/trail running shoes",
        price=165.0,
        rating=4.4,
        men=("Black", "Olive/Black", "Midnight Navy"),
        women=("Black", "Plum", "Slate Grey"),
        points=(
            "waterproof GORE-TEX membrane",
            "Vibram Megagrip outsole",
            "6 mm drop",
            "gaiter attachment loop at the heel",
        ),
        men_point="weighs 310 g (men's 9)",
        women_point="weighs 265 g (women's 7)",
        description=(
            "The Ridgeline with a waterproof membrane, built for slush, shoulder season and "
            "soaked morning grass. It keeps the same grippy outsole and rock plate with a "
            "warmer, more protective upper. On hot summer days the regular Ridgeline "
            "breathes better."
        ),
        tags=("trail", "running", "waterproof", "winter"),
    ),
    *gendered(
        "MUDLARK",
        "Mudlark Trail Shoe",
        brand="Granite Fox",
        category="footwear/trail running shoes",
        price=110.0,
        rating=4.4,
        men=("Olive", "Black", "Rust", "Stone", "Lake Blue"),
        women=("Mint", "Black", "Plum", "Stone", "Lake Blue"),
        points=(
            "5 mm multidirectional lugs spaced wide to shed mud",
            "8 mm drop",
            "roomy toe box for long days and swelling feet",
            "vegan: no animal-derived materials or glues",
        ),
        men_point="weighs 290 g (men's 9)",
        women_point="weighs 248 g (women's 7)",
        description=(
            "A no-fuss trail shoe for sloppy, muddy running at a friendlier price. Deep, "
            "widely spaced lugs clear themselves quickly, and the firmer foam keeps you "
            "steady on off-camber ground. The generous toe box suits wider feet."
        ),
        tags=("trail", "running", "mud", "wide-fit", "vegan"),
    ),
    *gendered(
        "LONGHAUL",
        "Longhaul Max Trail",
        brand="Meridian Run Co.",
        category="footwear/trail running shoes",
        price=160.0,
        rating=4.5,
        men=("Lake Blue", "Black", "Heather Grey", "Trail Orange"),
        women=("Sky Blue", "Black", "Coral", "Lavender"),
        points=(
            "38 mm stack height under the heel",
            "5 mm drop",
            "wide, stable platform for tired late-race legs",
            "heel pull tab and gaiter hook",
        ),
        men_point="weighs 300 g (men's 9)",
        women_point="weighs 258 g (women's 7)",
        description=(
            "Maximum cushioning for ultras and back-to-back long days. The wide base keeps "
            "the tall stack stable when your form starts to fade, and a moderate lug pattern "
            "handles everything from gravel to dry singletrack. It is not the shoe for deep "
            "mud or very technical descents."
        ),
        tags=("trail", "running", "max-cushion", "ultra"),
    ),
    Line(
        code="SCREE-DASH",
        name="Scree Dash Trail Racer",
        brand="Granite Fox",
        category="footwear/trail running shoes",
        fit="unisex",
        sizes=MEN_SHOE,
        price=135.0,
        rating=4.3,
        colourways=("Black/Volt", "Ember Red", "Cobalt", "Coral", "Cloud White"),
        points=(
            "6 mm chevron lugs for loose, technical ground",
            "4 mm drop, low to the ground",
            "weighs 220 g (men's 9)",
            "narrow, race-snug fit: size up half a size if you are between sizes",
        ),
        description=(
            "A light, low race shoe for fast efforts on technical terrain. The firm, "
            "close-to-the-ground ride gives precise footing on scree and roots. Unisex "
            "sizing in men's sizes; women usually order 1.5 sizes down."
        ),
        tags=("trail", "running", "race", "mud", "narrow-fit"),
    ),
    # --- Road running shoes ----------------------------------------------------------------
    *gendered(
        "TEMPO-RR",
        "Tempo Road Racer",
        brand="Trailhead",
        category="footwear/road running shoes",
        price=170.0,
        rating=4.7,
        men=("Volt Yellow", "Black/White", "Ember Red", "Cobalt", "Trail Orange"),
        women=("Sunset Pink", "Black/White", "Cobalt", "Mint", "Lavender"),
        points=(
            "full-length carbon fiber plate",
            "PEBA-based foam midsole that returns energy on every stride",
            "8 mm drop (39 mm heel, 31 mm forefoot)",
            "thin, race-ready engineered mesh upper",
        ),
        men_point="weighs 198 g (men's 9)",
        women_point="weighs 170 g (women's 7)",
        description=(
            "Our race-day shoe for 10Ks through the marathon. A carbon plate and springy "
            "foam make fast paces feel easier, and the upper is stripped down to what you "
            "need. It fits snug through the midfoot; save it for workouts and races."
        ),
        tags=("road", "running", "race", "carbon-plate", "marathon"),
    ),
    *gendered(
        "DAYMILE",
        "Daymile Daily Trainer",
        brand="Meridian Run Co.",
        category="footwear/road running shoes",
        price=125.0,
        rating=4.5,
        men=(
            "Black",
            "Midnight Navy",
            "Slate Grey",
            "Lake Blue",
            "Cloud White",
            "Ember Red",
            "Olive",
        ),
        women=(
            "Black",
            "Sunset Pink",
            "Lavender",
            "Sky Blue",
            "Cloud White",
            "Teal/Coral",
            "Midnight Navy",
        ),
        points=(
            "soft EVA-blend midsole for easy and long runs",
            "10 mm drop",
            "wide toe box on a wide-fit last",
            "carbon-rubber outsole rated for 500+ miles",
        ),
        men_point="weighs 285 g (men's 9)",
        women_point="weighs 240 g (women's 7)",
        description=(
            "The dependable daily trainer: cushioned enough for long runs, durable enough "
            "for hundreds of miles. It is built on a wide-fit last, so it works for runners "
            "who find most shoes pinch. A smooth, predictable ride rather than a bouncy one."
        ),
        tags=("road", "running", "daily-trainer", "wide-fit", "neutral"),
    ),
    *gendered(
        "SOFTLOOP",
        "Softloop Max Cushion Trainer",
        brand="Meridian Run Co.",
        category="footwear/road running shoes",
        price=150.0,
        rating=4.2,
        men=("Black", "Cloud White", "Cobalt"),
        women=("Black", "Cloud White", "Lavender"),
        points=(
            "42 mm heel stack",
            "rocker sole for a smooth heel-to-toe roll",
            "6 mm drop",
            "reflective heel and toe details",
        ),
        men_point="weighs 295 g (men's 9)",
        women_point="weighs 250 g (women's 7)",
        description=(
            "A plush, high-stack trainer for recovery days and runners who want as much "
            "cushion as possible underfoot. The rocker shape rolls you forward so it never "
            "feels sluggish. Popular with walkers and nurses on long shifts, too."
        ),
        tags=("road", "running", "max-cushion", "recovery"),
    ),
    # --- Hiking boots and shoes ------------------------------------------------------------
    *gendered(
        "SUMMIT-GTX",
        "Summit GTX Hiking Boot",
        brand="Trailhead",
        category="footwear/hiking boots",
        price=210.0,
        rating=4.7,
        men=("Saddle Brown", "Black", "Slate Grey", "Olive"),
        women=("Saddle Brown", "Slate Grey", "Plum", "Black"),
        points=(
            "waterproof GORE-TEX membrane",
            "Vibram Megagrip outsole with a heel brake for descents",
            "nubuck leather upper with a rubber toe cap",
            "TPU shank for support under a loaded pack",
        ),
        men_point="weighs 590 g per boot (men's 9)",
        women_point="weighs 505 g per boot (women's 7)",
        description=(
            "A mid-height waterproof boot for weekend backpacking and long day hikes. The "
            "stiff shank and supportive collar steady you under a heavy pack, while the "
            "padded tongue keeps it comfortable from the first mile. Give it a few short "
            "walks to break in."
        ),
        tags=("hiking", "waterproof", "backpacking", "leather"),
    ),
    *gendered(
        "SWITCH-MID",
        "Switchback Mid Waterproof Hiker",
        brand="Larchwood",
        category="footwear/hiking boots",
        price=150.0,
        rating=4.3,
        men=("Stone", "Black", "Olive"),
        women=("Stone", "Forest", "Sky Blue"),
        points=(
            "waterproof membrane with seam-sealed construction",
            "vegan: recycled mesh and synthetic suede, no animal products",
            "comfortable out of the box, no break-in needed",
        ),
        men_point="weighs 450 g per boot (men's 9)",
        women_point="weighs 395 g per boot (women's 7)",
        description=(
            "A light, sneaker-comfortable mid boot for trail days and wet shoulder seasons. "
            "It keeps puddles and spring snow out without the weight of a leather boot. A "
            "good pick for hikers who do not carry heavy loads."
        ),
        tags=("hiking", "waterproof", "vegan", "lightweight"),
    ),
    *gendered(
        "TALUS",
        "Talus Leather Backpacking Boot",
        brand="Trailhead",
        category="footwear/hiking boots",
        price=265.0,
        rating=4.8,
        men=("Saddle Brown", "Black"),
        women=("Saddle Brown", "Black"),
        points=(
            "2.2 mm full-grain leather upper",
            "resoleable welted construction",
            "Vibram lug outsole",
            "waxed laces and locking speed hooks",
        ),
        men_point="weighs 820 g per boot (men's 9)",
        women_point="weighs 700 g per boot (women's 7)",
        description=(
            "A traditional leather boot made to last a decade of hard miles and more than "
            "one resole. It needs a proper break-in, then molds to your foot. Treat the "
            "leather with wax once a season to keep it water-resistant."
        ),
        tags=("hiking", "backpacking", "leather", "resoleable"),
    ),
    *gendered(
        "CANYON-LOW",
        "Canyon Low Hiking Shoe",
        brand="Larchwood",
        category="footwear/hiking shoes",
        price=115.0,
        rating=4.4,
        men=("Sand", "Olive", "Slate Grey", "Black", "Rust"),
        women=("Sand", "Mint", "Slate Grey", "Coral", "Lavender"),
        points=(
            "breathable mesh upper for desert heat",
            "sticky rubber outsole that grips slickrock",
            "cushioned EVA midsole",
            "vegan construction",
        ),
        men_point="weighs 370 g per shoe (men's 9)",
        women_point="weighs 318 g per shoe (women's 7)",
        description=(
            "A low-cut hiker that breathes in the heat and grips on sandstone. It feels "
            "like a trail runner but has a firmer midsole for rocky ground. Not waterproof, "
            "by design: it dries fast after a creek crossing."
        ),
        tags=("hiking", "vegan", "breathable", "summer"),
    ),
    *gendered(
        "FROSTLINE",
        "Frostline Insulated Winter Boot",
        brand="Trailhead",
        category="footwear/winter boots",
        price=185.0,
        rating=4.5,
        men=("Black", "Saddle Brown", "Charcoal"),
        women=("Black", "Sand", "Plum"),
        points=(
            "200 g synthetic insulation, rated comfortable to -25 °F",
            "waterproof, seam-sealed shell",
            "ice-grip rubber outsole",
            "removable felt liner that dries overnight",
        ),
        men_point="10-inch shaft (men's 9)",
        women_point="9-inch shaft (women's 7)",
        description=(
            "A warm, waterproof boot for shoveling, snowshoeing and long winter dog walks. "
            "The liner pulls out to dry by the heater, and the outsole stays soft and "
            "grippy in deep cold. Roomy enough for a thick wool sock."
        ),
        tags=("winter", "waterproof", "insulated", "snow"),
    ),
    Line(
        code="CAMP-SLIDE",
        name="Camp Slide Recovery Sandal",
        brand="Pika Works",
        category="footwear/sandals",
        fit="unisex",
        sizes=WHOLE_SIZES,
        price=45.0,
        rating=4.1,
        colourways=("Black", "Slate Grey", "Trail Orange", "Lake Blue", "Sand"),
        points=(
            "soft, springy recovery foam footbed",
            "rinse-and-go: fine in water and at the campsite",
            "vegan",
            "whole sizes only (men's); if you are a half size, size up",
        ),
        description=(
            "The slide to pull on after a long run or at the end of a hike. The squishy "
            "foam takes the ache out of tired feet, and it is light enough to strap to a "
            "pack for camp."
        ),
        tags=("sandals", "recovery", "vegan", "summer"),
    ),
    # --- Jackets and insulation ------------------------------------------------------------
    Line(
        code="FEATHER-WS",
        name="Featherlite Wind Shell",
        brand="Trailhead",
        category="apparel/jackets",
        fit="unisex",
        sizes=APPAREL,
        price=89.0,
        rating=4.5,
        colourways=(
            "Volt Yellow",
            "Black",
            "Glacier Teal",
            "Ember Red",
            "Sky Blue",
            "Lavender",
            "Trail Orange",
            "Black/Volt",
        ),
        points=(
            "weighs 95 g (size M)",
            "packs into its own chest pocket",
            "DWR finish sheds light drizzle (not waterproof)",
            "reflective details front and back",
        ),
        description=(
            "A featherweight wind jacket that lives in your pocket until the breeze picks up "
            "on a ridge. It cuts wind chill on early runs and breathes well on the move. For "
            "real rain, pair it with a waterproof shell."
        ),
        tags=("wind", "running", "packable", "lightweight"),
    ),
    *gendered(
        "STORMWALL",
        "Stormwall 3L Rain Jacket",
        brand="Trailhead",
        category="apparel/jackets",
        price=249.0,
        rating=4.6,
        men=("Black", "Ember Red", "Cobalt", "Olive", "Midnight Navy"),
        women=("Black", "Glacier Teal", "Plum", "Coral", "Lavender"),
        points=(
            "3-layer waterproof-breathable fabric (20,000 mm / 20,000 g)",
            "fully taped seams",
            "helmet-compatible hood",
            "pit zips for venting on climbs",
        ),
        men_point="weighs 390 g (men's M)",
        women_point="weighs 340 g (women's M)",
        description=(
            "A fully waterproof shell for all-day rain in the mountains or a wet commute. The "
            "3-layer fabric stays dry against your skin when you are working hard, and pit "
            "zips dump heat fast. Cut with room for a fleece underneath."
        ),
        tags=("waterproof", "rain", "hiking", "shell"),
    ),
    *gendered(
        "BASECAMP-DP",
        "Basecamp Down Parka",
        brand="Trailhead",
        category="apparel/insulated jackets",
        price=389.0,
        rating=4.8,
        men=("Black", "Midnight Navy", "Olive"),
        women=("Black", "Plum", "Sand"),
        points=(
            "800-fill responsibly sourced down (RDS certified)",
            "thigh-length cut with an insulated hood",
            "water-resistant shell fabric",
            "rated comfortable to -20 °F when standing around",
        ),
        men_point="two-way front zip",
        women_point="two-way front zip and a cinchable waist",
        description=(
            "Our warmest jacket, for bitter winter days and frozen mornings at the trailhead. "
            "The long cut keeps your hips warm and the hood fits over a beanie. It is a lot "
            "of jacket: too warm for active use or mild winters."
        ),
        tags=("winter", "down", "insulated", "parka"),
    ),
    Line(
        code="EMBERLOFT",
        name="Emberloft Synthetic Jacket",
        brand="Larchwood",
        category="apparel/insulated jackets",
        fit="unisex",
        sizes=APPAREL,
        price=179.0,
        rating=4.4,
        colourways=("Black", "Rust", "Moss Green", "Cobalt", "Mustard"),
        points=(
            "synthetic insulation that stays warm when damp",
            "weighs 340 g (size M)",
            "stuffs into its own hand pocket",
            "vegan: no down or animal products",
        ),
        description=(
            "A light puffy that keeps working in wet weather, where down struggles. Throw "
            "it on at rest stops or wear it under a shell on cold hikes. Trim fit; size up "
            "to layer over a thick fleece."
        ),
        tags=("insulated", "vegan", "packable", "winter"),
    ),
    # --- Base layers, tops, bottoms --------------------------------------------------------
    *gendered(
        "MERINO-150",
        "Merino 150 Crew Base Layer",
        brand="Trailhead",
        category="apparel/base layers",
        price=75.0,
        rating=4.5,
        men=("Black", "Charcoal", "Midnight Navy", "Moss Green", "Rust", "Slate Grey"),
        women=("Black", "Charcoal", "Plum", "Glacier Teal", "Lavender", "Sunset Pink"),
        points=(
            "100% merino wool, lightweight 150 g/m²",
            "flatlock seams that will not chafe under a pack",
            "naturally odour-resistant: wear it for days",
            "slim fit; runs a little small, so size up for a relaxed fit",
        ),
        men_point="longer hem stays tucked in",
        women_point="slightly longer back hem",
        description=(
            "A lightweight merino layer for cool runs, ski days and multi-day trips. It "
            "regulates temperature across a wide range and does not hold smells. Works as "
            "a next-to-skin layer or as a tee on its own."
        ),
        tags=("base-layer", "merino", "winter", "odour-resistant"),
    ),
    Line(
        code="MERINO-250Z",
        name="Merino 250 Zip-Neck Base Layer",
        brand="Trailhead",
        category="apparel/base layers",
        fit="unisex",
        sizes=APPAREL,
        price=110.0,
        rating=4.7,
        colourways=("Black", "Charcoal", "Ember Red", "Midnight Navy", "Olive"),
        points=(
            "midweight 250 g/m² merino",
            "quarter zip for venting on climbs",
            "thumb loops keep the sleeves in place",
            "naturally odour-resistant",
        ),
        description=(
            "A midweight merino layer for properly cold days on the slopes or the trail. "
            "Unzip the neck when you are working hard and zip it up on the chairlift. "
            "Relaxed fit, true to size."
        ),
        tags=("base-layer", "merino", "winter", "odour-resistant"),
    ),
    Line(
        code="MERINO-250B",
        name="Merino 250 Base Layer Bottoms",
        brand="Trailhead",
        category="apparel/base layers",
        fit="unisex",
        sizes=APPAREL,
        price=95.0,
        rating=4.5,
        colourways=("Black", "Charcoal", "Midnight Navy"),
        points=(
            "midweight 250 g/m² merino",
            "wide, flat waistband that sits comfortably under a hip belt",
            "gusseted crotch for freedom of movement",
            "naturally odour-resistant",
        ),
        description=(
            "Warm merino leggings for under ski pants, snow pants or hiking trousers. They "
            "trap heat without bulk and stay comfortable for days on a trip."
        ),
        tags=("base-layer", "merino", "winter", "odour-resistant"),
    ),
    Line(
        code="STRIDE-5-M",
        name="Men's Stride 5\" Running Shorts",
        brand="Trailhead",
        category="apparel/running shorts",
        fit="men",
        sizes=APPAREL,
        price=48.0,
        rating=4.4,
        colourways=(
            "Black",
            "Midnight Navy",
            "Slate Grey",
            "Volt Yellow",
            "Ember Red",
            "Cobalt",
            "Olive",
            "Heather Grey",
        ),
        points=(
            "5-inch inseam",
            "built-in brief liner",
            "zip back pocket fits a large phone",
            "quick-dry recycled polyester",
        ),
        description=(
            "Light, fast-drying shorts for everything from easy miles to track sessions. The "
            "liner means no chafing, and the zip pocket keeps keys and phone from bouncing."
        ),
        tags=("running", "shorts", "summer", "recycled"),
    ),
    Line(
        code="STRIDE-3-W",
        name="Women's Stride 3\" Running Shorts",
        brand="Trailhead",
        category="apparel/running shorts",
        fit="women",
        sizes=APPAREL,
        price=48.0,
        rating=4.5,
        colourways=(
            "Black",
            "Sunset Pink",
            "Glacier Teal",
            "Lavender",
            "Coral",
            "Midnight Navy",
            "Mint",
            "Plum",
        ),
        points=(
            "3-inch inseam",
            "built-in brief liner",
            "zip back pocket fits a large phone",
            "quick-dry recycled polyester",
        ),
        description=(
            "Light, fast-drying shorts for everything from easy miles to race day. The soft "
            "liner prevents chafing, and the zip pocket holds a phone without bouncing."
        ),
        tags=("running", "shorts", "summer", "recycled"),
    ),
    Line(
        code="PACER-TEE",
        name="Pacer Tech Tee",
        brand="Trailhead",
        category="apparel/tops",
        fit="unisex",
        sizes=APPAREL,
        price=38.0,
        rating=4.3,
        colourways=(
            "Black",
            "Cloud White",
            "Heather Grey",
            "Volt Yellow",
            "Cobalt",
            "Sunset Pink",
            "Mint",
            "Ember Red",
            "Lavender",
        ),
        points=(
            "weighs 105 g (size M)",
            "recycled polyester with an anti-odour treatment",
            "flatlock seams",
            "reflective logo for early and late runs",
        ),
        description=(
            "A light, breathable running tee that dries fast and does not cling. Regular "
            "fit, true to size."
        ),
        tags=("running", "tee", "summer", "recycled"),
    ),
    *gendered(
        "TRAILBREAK",
        "Trailbreak Convertible Pants",
        brand="Larchwood",
        category="apparel/pants",
        price=85.0,
        rating=4.2,
        men=("Sand", "Olive", "Slate Grey", "Black"),
        women=("Sand", "Slate Grey", "Olive"),
        points=(
            "zip-off legs convert to shorts",
            "UPF 50 sun protection",
            "4-way stretch nylon",
            "zippered thigh pocket",
        ),
        men_point="32-inch inseam; 9-inch inseam as shorts",
        women_point="30-inch inseam; 7-inch inseam as shorts",
        description=(
            "Hiking pants that turn into shorts when the morning chill burns off. The "
            "stretchy nylon moves with you on scrambles and dries quickly after a shower."
        ),
        tags=("hiking", "pants", "sun-protection", "travel"),
    ),
    *gendered(
        "NIGHTFALL",
        "Nightfall Thermal Tights",
        brand="Meridian Run Co.",
        category="apparel/running tights",
        price=72.0,
        rating=4.4,
        men=("Black", "Charcoal"),
        women=("Black", "Plum", "Midnight Navy"),
        points=(
            "brushed, fleece-backed fabric for cold runs",
            "reflective ankle panels",
            "zip ankles slide over shoes",
        ),
        men_point="drop-in pockets on both hips",
        women_point="high-rise waist with drop-in phone pockets",
        description=(
            "Warm tights for winter running, from frosty mornings to below-freezing night "
            "runs. The brushed inside traps heat and the reflective panels catch headlights."
        ),
        tags=("running", "winter", "tights", "reflective"),
    ),
    Line(
        code="CIRQUE-FLEECE",
        name="Cirque Grid Fleece Quarter-Zip",
        brand="Larchwood",
        category="apparel/midlayers",
        fit="unisex",
        sizes=APPAREL,
        price=79.0,
        rating=4.5,
        colourways=(
            "Charcoal",
            "Ember Red",
            "Glacier Teal",
            "Mustard",
            "Midnight Navy",
            "Moss Green",
            "Lavender",
        ),
        points=(
            "grid fleece traps warmth and vents moisture",
            "weighs 290 g (size M)",
            "quarter zip with a chin guard",
            "made from recycled polyester",
        ),
        description=(
            "The midlayer we reach for from October to April: warm when you stop, breathable "
            "when you move. Wear it over a base layer on cold runs or under a shell on "
            "windy hikes."
        ),
        tags=("fleece", "midlayer", "recycled", "winter"),
    ),
    Line(
        code="SUNRISE-HOODY",
        name="Sunrise Sun Hoodie",
        brand="Pika Works",
        category="apparel/tops",
        fit="unisex",
        sizes=APPAREL,
        price=65.0,
        rating=4.4,
        colourways=("Cloud White", "Sky Blue", "Sand", "Mint", "Slate Grey", "Coral"),
        points=(
            "UPF 50+ fabric",
            "scuba-style hood covers neck and ears",
            "thumb loops to protect the backs of your hands",
            "cool-to-the-touch, quick-dry knit",
        ),
        description=(
            "Long-sleeve sun protection that is cooler than sunscreen on a hot trail. The "
            "light knit dries in minutes, and the hood tucks under a cap."
        ),
        tags=("sun-protection", "summer", "hiking", "running"),
    ),
    *gendered(
        "DAYHIKE-SHORT",
        "Dayhike Shorts",
        brand="Larchwood",
        category="apparel/hiking shorts",
        price=55.0,
        rating=4.3,
        men=("Sand", "Olive", "Slate Grey", "Black", "Midnight Navy"),
        women=("Sand", "Olive", "Slate Grey", "Black", "Plum"),
        points=(
            "stretch nylon that moves on scrambles",
            "UPF 50 sun protection",
            "zippered side pocket for a phone",
        ),
        men_point="8-inch inseam",
        women_point="5-inch inseam",
        description=(
            "Tough, quick-drying shorts for summer hiking and travel. They look tidy enough "
            "for the brewery after the trail."
        ),
        tags=("hiking", "shorts", "summer", "sun-protection"),
    ),
    # --- Socks, headwear, gloves -----------------------------------------------------------
    Line(
        code="RIDGE-SOCK",
        name="Ridgeline Merino Trail Sock",
        brand="Trailhead",
        category="apparel/socks",
        fit="unisex",
        sizes=SOCKS_GLOVES,
        price=18.0,
        rating=4.6,
        colourways=(
            "Black",
            "Slate Grey",
            "Trail Orange",
            "Moss Green",
            "Sunset Pink",
            "Lake Blue",
            "Coral",
            "Charcoal",
        ),
        points=(
            "merino wool blend (56% merino)",
            "light cushion under the heel and forefoot",
            "quarter height keeps grit out",
            "lifetime guarantee: we replace worn-out pairs",
        ),
        description=(
            "Our favourite sock for trail runs and fast hikes. The merino keeps feet dry and "
            "blister-free, and the quarter cuff keeps trail grit out of your shoes."
        ),
        tags=("socks", "merino", "trail", "running"),
    ),
    Line(
        code="TEMPO-SOCK",
        name="Tempo No-Show Running Sock",
        brand="Trailhead",
        category="apparel/socks",
        fit="unisex",
        sizes=SOCKS_GLOVES,
        price=12.0,
        rating=4.3,
        colourways=("Black", "Cloud White", "Volt Yellow", "Sunset Pink", "Cobalt", "Mint"),
        points=(
            "ultralight with no cushion, for a race-day feel",
            "heel tab stops the sock slipping",
            "seamless toe",
            "moisture-wicking nylon blend",
        ),
        description=(
            "A thin, barely-there sock for fast road running. It stays put and dries quickly."
        ),
        tags=("socks", "road", "running"),
    ),
    Line(
        code="SUMMIT-SOCK",
        name="Summit Hiker Crew Sock",
        brand="Trailhead",
        category="apparel/socks",
        fit="unisex",
        sizes=SOCKS_GLOVES,
        price=24.0,
        rating=4.7,
        colourways=("Charcoal", "Olive", "Rust", "Midnight Navy", "Heather Grey"),
        points=(
            "full-cushion merino for long days in boots",
            "crew height sits above the boot collar",
            "reinforced heel and toe",
            "lifetime guarantee",
        ),
        description=(
            "A thick, cushioned sock for boots and backpacking. It stays warm when damp and "
            "takes the edge off long descents."
        ),
        tags=("socks", "merino", "hiking", "winter"),
    ),
    Line(
        code="TAILWIND-CAP",
        name="Tailwind Running Cap",
        brand="Pika Works",
        category="apparel/headwear",
        fit="unisex",
        sizes=ONE_SIZE,
        price=28.0,
        rating=4.4,
        colourways=(
            "Black",
            "Cloud White",
            "Volt Yellow",
            "Glacier Teal",
            "Coral",
            "Midnight Navy",
            "Sunset Pink",
        ),
        points=(
            "weighs 45 g",
            "sweat-wicking terry headband",
            "UPF 50 fabric",
            "crushable brim survives a pocket",
        ),
        description=(
            "A light running cap that keeps sun and sweat out of your eyes. The adjustable "
            "strap fits most heads."
        ),
        tags=("running", "hat", "summer", "sun-protection"),
    ),
    Line(
        code="RIDGE-BEANIE",
        name="Merino Ridge Beanie",
        brand="Trailhead",
        category="apparel/headwear",
        fit="unisex",
        sizes=ONE_SIZE,
        price=32.0,
        rating=4.6,
        colourways=(
            "Charcoal",
            "Ember Red",
            "Mustard",
            "Moss Green",
            "Midnight Navy",
            "Sunset Pink",
            "Black",
            "Glacier Teal",
        ),
        points=(
            "100% merino rib knit",
            "double-layer band over the ears",
            "breathable enough to run in",
        ),
        description=(
            "A warm, itch-free merino beanie for winter runs, ski days and everyday wear."
        ),
        tags=("hat", "merino", "winter"),
    ),
    Line(
        code="GRIDLINE-GLOVE",
        name="Gridline Touchscreen Running Gloves",
        brand="Pika Works",
        category="apparel/gloves",
        fit="unisex",
        sizes=SOCKS_GLOVES,
        price=30.0,
        rating=4.2,
        colourways=("Black", "Charcoal", "Volt Yellow"),
        points=(
            "touchscreen-compatible thumb and index finger",
            "silicone grip palm",
            "lightweight stretch fleece",
            "reflective logo",
        ),
        description=(
            "Light gloves for cold-morning runs. You can answer a text or skip a song "
            "without taking them off."
        ),
        tags=("running", "gloves", "winter", "reflective"),
    ),
    # --- Gear ------------------------------------------------------------------------------
    Line(
        code="TH22-PACK",
        name="Trailhead 22 Daypack",
        brand="Trailhead",
        category="gear/packs",
        fit="unisex",
        sizes=PACK,
        price=99.0,
        rating=4.6,
        colourways=("Black", "Lake Blue", "Olive", "Ember Red", "Slate Grey"),
        points=(
            "22 L capacity",
            "ventilated mesh back panel",
            "hydration sleeve fits a 2.5 L reservoir",
            "zippered hip-belt pockets",
            "weighs 820 g",
        ),
        description=(
            "A comfortable day hiking pack with room for layers, lunch and water. The mesh "
            "back keeps you cooler on climbs, and the hip-belt pockets hold snacks and a "
            "phone. Choose S/M for torsos under 18 inches."
        ),
        tags=("hiking", "pack", "daypack"),
    ),
    Line(
        code="ASCENT-45",
        name="Ascent 45 Backpacking Pack",
        brand="Trailhead",
        category="gear/packs",
        fit="unisex",
        sizes=PACK,
        price=229.0,
        rating=4.7,
        colourways=("Black", "Olive", "Glacier Teal"),
        points=(
            "45 L plus a 5 L extension collar",
            "adjustable torso length (16 to 21 inches)",
            "carries 35 lb comfortably",
            "removable lid doubles as a hip pack",
            "weighs 1.3 kg",
        ),
        description=(
            "A light, well-padded pack for weekend trips and lightweight week-long hikes. "
            "The adjustable back dials in the fit, and the lid comes off to save weight."
        ),
        tags=("hiking", "pack", "backpacking"),
    ),
    Line(
        code="FASTPACK-8",
        name="Fastpack 8 Running Vest",
        brand="Meridian Run Co.",
        category="gear/hydration",
        fit="unisex",
        sizes=VEST,
        price=135.0,
        rating=4.5,
        colourways=("Black", "Volt Yellow", "Glacier Teal", "Coral"),
        points=(
            "8 L capacity",
            "two 500 ml soft flasks included",
            "bounce-free fit with two adjustable sternum straps",
            "weighs 240 g",
        ),
        description=(
            "A running vest for long trail runs and races with mandatory kit. It carries a "
            "jacket, food and 1 L of water without bouncing."
        ),
        tags=("running", "trail", "hydration", "ultra"),
    ),
    Line(
        code="SOFT-FLASK",
        name="Soft Flask 500 ml",
        brand="Pika Works",
        category="gear/hydration",
        fit="unisex",
        sizes=ONE_SIZE,
        price=25.0,
        rating=4.0,
        colourways=("Smoke", "Lake Blue", "Volt Yellow"),
        points=(
            "collapses as you drink, so it does not slosh",
            "BPA-free TPU",
            "high-flow bite valve",
            "fits most vest chest pockets",
        ),
        description=(
            "A squeezable bottle for running vests and belts. It shrinks as you drink and "
            "rolls up small when empty."
        ),
        tags=("running", "hydration"),
    ),
    Line(
        code="SUMMIT-BOTTLE",
        name="Summit Insulated Bottle 750 ml",
        brand="Trailhead",
        category="gear/hydration",
        fit="unisex",
        sizes=ONE_SIZE,
        price=34.0,
        rating=4.7,
        colourways=("Black", "Lake Blue", "Moss Green", "Trail Orange", "Sand", "Sunset Pink"),
        points=(
            "double-wall vacuum insulation keeps drinks cold for 24 h",
            "leak-proof loop cap",
            "fits most car cup holders",
            "weighs 340 g",
        ),
        description=(
            "A tough steel bottle for the trailhead, the office and the car. Ice lasts all "
            "day in summer and coffee stays hot on winter mornings."
        ),
        tags=("hydration", "camping", "hiking"),
    ),
    Line(
        code="BEACON-400",
        name="Beacon 400 Headlamp",
        brand="Trailhead",
        category="gear/headlamps",
        fit="unisex",
        sizes=ONE_SIZE,
        price=45.0,
        rating=4.4,
        colourways=("Black", "Trail Orange", "Lake Blue", "Volt Yellow"),
        points=(
            "400 lumens max",
            "rechargeable over USB-C",
            "red light mode preserves night vision",
            "IPX4 water resistant",
            "weighs 78 g with battery",
        ),
        description=(
            "A light, simple headlamp for dawn runs, camp chores and finishing a hike after "
            "sunset. One button, four modes."
        ),
        tags=("headlamp", "running", "camping", "rechargeable"),
    ),
    Line(
        code="BEACON-900",
        name="Beacon 900 Rechargeable Headlamp",
        brand="Trailhead",
        category="gear/headlamps",
        fit="unisex",
        sizes=ONE_SIZE,
        price=89.0,
        rating=4.6,
        colourways=("Black", "Trail Orange", "Slate Grey"),
        points=(
            "900 lumens max with a 110 m beam",
            "reactive mode adjusts brightness to what you are looking at",
            "up to 50 h on low",
            "IPX7 waterproof",
            "weighs 115 g",
        ),
        description=(
            "A bright, long-running headlamp for night trail running and alpine starts. "
            "The rear battery pack balances the weight so it does not bounce."
        ),
        tags=("headlamp", "trail", "rechargeable", "waterproof"),
    ),
    Line(
        code="CARBON-POLES",
        name="Carbon Trekking Poles (pair)",
        brand="Trailhead",
        category="gear/trekking poles",
        fit="unisex",
        sizes=ONE_SIZE,
        price=149.0,
        rating=4.5,
        colourways=("Black", "Slate Grey", "Trail Orange"),
        points=(
            "carbon fiber shafts",
            "weighs 460 g per pair",
            "flick-lock adjustment from 105 to 135 cm",
            "cork grips with a foam extension",
            "interchangeable tips and snow baskets",
        ),
        description=(
            "Light, stiff poles that save your knees on long descents. They adjust for "
            "climbs and descents and work year-round with the snow baskets."
        ),
        tags=("hiking", "trekking-poles", "backpacking"),
    ),
    Line(
        code="TRAIL-GAITER",
        name="Trail Running Gaiters",
        brand="Pika Works",
        category="gear/accessories",
        fit="unisex",
        sizes=GAITER,
        price=30.0,
        rating=4.3,
        colourways=("Black", "Volt Yellow", "Teal/Coral", "Olive"),
        points=(
            "stretch, quick-dry fabric",
            "hooks to your laces and sticks to a heel tab",
            "keeps grit, scree and snow out of your shoes",
        ),
        description=(
            "Low gaiters that keep stones and sand out of trail shoes. They weigh almost "
            "nothing and pack into a pocket."
        ),
        tags=("trail", "running", "accessories"),
    ),
    Line(
        code="ICEGRIP",
        name="Icegrip Traction Cleats",
        brand="Pika Works",
        category="gear/traction",
        fit="unisex",
        sizes=SOCKS_GLOVES,
        price=69.0,
        rating=4.5,
        colourways=("Black", "Ember Red"),
        points=(
            "12 stainless steel spikes per foot",
            "elastomer harness stays stretchy to -22 °F",
            "fits running shoes and hiking boots",
            "storage bag included",
        ),
        description=(
            "Slip-on spikes for icy trails, packed snow and frozen sidewalks. They go on "
            "in seconds and stay put on steep ground."
        ),
        tags=("winter", "traction", "hiking", "running"),
    ),
]

# Products the scripted conversations and shopper stories rely on (see shoppers.yaml).
PINNED: dict[str, Pin] = {
    "TH-RIDGE-TR-W-BLU": Pin(sold_out=("5", "11")),
    "TH-MUDLARK-W-MNT": Pin(sold_out=("10.5",)),
    "TH-TEMPO-RR-M-VLT": Pin(sold_out=("7", "13")),
    "TH-MERINO-150-M-CHR": Pin(sold_out=("XS",)),
    "TH-BASECAMP-DP-M-BLK": Pin(sold_out=("XS", "XXL")),
    "TH-DAYMILE-W-PNK": Pin(sold_out=("5", "5.5", "11"), markdown=0.3),
    "TH-STORMWALL-W-TEA": Pin(sold_out=("XXL",), markdown=0.3),
    "TH-FEATHER-WS-LAV": Pin(sold_out=("XS",), markdown=0.25),
    "TH-PACER-TEE-MNT": Pin(markdown=0.4),
    "TH-MERINO-150-W-LAV": Pin(sold_out=("XXL",), markdown=0.25),
}


def sale_price(price: float, markdown: float) -> float:
    """Return the marked-down price, ending in .95 as the store prices its sales."""
    return round(round(price * (1 - markdown)) - 0.05, 2)


def in_stock_sizes(sizes: tuple[str, ...], rng: random.Random) -> list[str]:
    """Draw which sizes are still on the shelf; the extreme sizes sell out more often."""
    if len(sizes) == 1:
        return list(sizes)
    edge = 2 if len(sizes) > 4 else 0
    kept = [
        size
        for i, size in enumerate(sizes)
        if rng.random() >= (0.3 if i < edge or i >= len(sizes) - edge else 0.08)
    ]
    return kept or [sizes[len(sizes) // 2]]


def make_product(line: Line, colourway: str, rng: random.Random) -> dict[str, Any]:
    """Expand one line and one colourway into a catalog record with drawn stock and price."""
    colour_code, colour_words = PALETTE[colourway]
    product_id = f"TH-{line.code}-{colour_code}"
    is_new = rng.random() < NEW_COLOURWAY_SHARE
    markdown = rng.choice((0.2, 0.25, 0.3, 0.4)) if rng.random() < MARKDOWN_SHARE else None
    if is_new:
        markdown = None
    jitter = rng.uniform(-0.15, 0.15)
    rating = None if is_new else min(4.9, max(3.6, round(line.rating + jitter, 1)))
    reviews = 0 if is_new else rng.randint(6, 480)
    tags = [*line.tags, line.fit]
    if is_new:
        tags.append("new")
    return {
        "id": product_id,
        "title": f"{line.name} — {colourway}",
        "brand": line.brand,
        "category": line.category,
        "description": line.description,
        "price": line.price,
        "currency": "USD",
        "compare_at_price": None,
        "colors": list(colour_words),
        "sizes": list(line.sizes),
        "sizes_in_stock": in_stock_sizes(line.sizes, rng),
        "in_stock": True,
        "rating": rating,
        "review_count": reviews,
        "selling_points": list(line.points),
        "url": URL_PREFIX + product_id,
        "tags": tags,
        "_markdown": markdown,
    }


def apply_markdown(product: dict[str, Any], markdown: float | None) -> None:
    """Set the product's price and compare-at price for a markdown (None: full price)."""
    full_price = product["compare_at_price"] or product["price"]
    tags = [tag for tag in product["tags"] if tag != "sale"]
    if markdown is None:
        product.update(price=full_price, compare_at_price=None, tags=tags)
    else:
        product.update(
            price=sale_price(full_price, markdown),
            compare_at_price=full_price,
            tags=[*tags, "sale"],
        )


def build_catalog(seed: int = SEED) -> list[dict[str, Any]]:
    """Expand every line into products, then sell some out and pin the story products."""
    rng = random.Random(seed)
    products = [make_product(line, colour, rng) for line in LINES for colour in line.colourways]
    for product in products:
        apply_markdown(product, product.pop("_markdown"))
    candidates = [p for p in products if p["id"] not in PINNED]
    for product in rng.sample(candidates, round(len(products) * SOLD_OUT_SHARE)):
        product["sizes_in_stock"] = []
    by_id = {p["id"]: p for p in products}
    for product_id, pin in PINNED.items():
        product = by_id[product_id]
        product["sizes_in_stock"] = [s for s in product["sizes"] if s not in pin.sold_out]
        apply_markdown(product, pin.markdown)
    for product in products:
        product["in_stock"] = bool(product["sizes_in_stock"])
    return products


def check(products: list[dict[str, Any]]) -> None:
    """Fail loudly on mistakes in the hand-written lines (duplicate SKUs, bad pins)."""
    ids = [p["id"] for p in products]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SystemExit(f"duplicate product ids: {duplicates}")
    sizes_by_id = {p["id"]: set(p["sizes"]) for p in products}
    for product_id, pin in PINNED.items():
        unknown = set(pin.sold_out) - sizes_by_id[product_id]
        if unknown:
            raise SystemExit(f"{product_id}: pinned sizes {sorted(unknown)} are not in its run")
    for line in LINES:
        if not 3 <= len(line.points) <= 5:
            raise SystemExit(f"{line.code}: needs 3-5 selling points, has {len(line.points)}")


def write_catalog(products: list[dict[str, Any]], out: Path) -> None:
    """Write one JSON object per line, UTF-8, with a stable field order."""
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in products)
    out.write_text(text, encoding="utf-8", newline="\n")


def main() -> None:
    """Parse arguments, build the catalog and write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSONL")
    args = parser.parse_args()
    products = build_catalog()
    check(products)
    write_catalog(products, args.out)
    categories = {p["category"] for p in products}
    sold_out = sum(not p["in_stock"] for p in products)
    print(
        f"wrote {len(products)} products from {len(LINES)} lines in {len(categories)} "
        f"categories ({sold_out} sold out) to {args.out}"
    )


if __name__ == "__main__":
    main()
