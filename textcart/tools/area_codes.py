"""Which time zone a North American phone number most likely sits in, from its area code.

A shopper whose profile has no time zone still has a number, and in the North American
Numbering Plan the three digits after +1 name a region. Where a code straddles a zone
line (the Florida panhandle, western Kansas, northern Idaho) the zone of most of its
subscribers is used; a profile time zone, when known, always wins. Ported numbers and
mobile users who moved make this a best guess, which is why quiet hours also have the
store's own zone to fall back on.
"""

from __future__ import annotations

# One zone per line, its area codes after it. Written from the public NANP assignments.
_ZONE_CODES = {
    "America/New_York": (
        # CT DE DC
        "203 475 860 959 302 202 771 "
        # FL (peninsula)
        "239 305 321 324 352 386 407 561 645 656 689 727 728 754 772 786 813 863 904 941 954 "
        # GA
        "229 404 470 478 678 706 762 770 912 943 "
        # IN (all but the northwest), KY (east)
        "317 463 260 765 574 812 930 502 606 859 "
        # ME MD MA
        "207 227 240 301 410 443 667 339 351 413 508 617 774 781 857 978 "
        # MI
        "231 248 269 313 517 586 616 679 734 810 906 947 989 "
        # NH NJ
        "603 201 551 609 640 732 848 856 862 908 973 "
        # NY
        "212 315 329 332 347 363 516 518 585 607 624 631 646 680 716 718 838 845 914 917 929 934 "
        # NC
        "252 336 472 704 743 828 910 919 980 984 "
        # OH
        "216 220 234 283 326 330 380 419 436 440 513 567 614 740 937 "
        # PA
        "215 223 267 272 412 445 484 570 582 610 717 724 814 835 878 "
        # RI SC TN (east) VT
        "401 803 821 839 843 854 864 423 865 802 "
        # VA WV
        "276 434 540 571 686 703 757 804 826 948 304 681"
    ),
    "America/Chicago": (
        # AL AR
        "205 251 256 334 483 659 938 327 479 501 870 "
        # IL
        "217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 861 872 "
        # IN (northwest) IA KS KY (west)
        "219 319 515 563 641 712 316 620 785 913 270 364 "
        # LA MN MS
        "225 318 337 457 504 985 218 320 507 612 651 763 924 952 228 601 662 769 "
        # MO NE ND SD
        "235 314 417 557 573 636 660 816 975 308 402 531 701 605 "
        # OK TN (middle and west)
        "405 539 572 580 918 615 629 731 901 "
        # TX (all but El Paso)
        "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 "
        "903 936 940 945 956 972 979 "
        # WI, FL panhandle (most of its subscribers are west of the Apalachicola)
        "262 274 353 414 534 608 715 920 448 850"
    ),
    "America/Denver": "303 719 720 970 983 406 505 575 385 435 801 307 915",
    "America/Boise": "208 986",
    "America/Phoenix": "480 520 602 623 928",
    "America/Los_Angeles": (
        # CA
        "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 "
        "657 661 669 707 714 738 747 760 805 818 820 831 837 840 858 909 916 925 949 951 "
        # NV OR WA
        "702 725 775 458 503 541 971 206 253 360 425 509 564"
    ),
    "America/Anchorage": "907",
    "Pacific/Honolulu": "808",
    "America/Puerto_Rico": "787 939",
    "America/St_Thomas": "340",
    "Pacific/Guam": "671",
    # Canada
    "America/Toronto": (
        # ON
        "226 249 289 343 365 382 416 437 519 548 613 647 683 705 742 753 807 905 942 "
        # QC
        "263 354 367 418 438 450 468 514 579 581 819 873"
    ),
    "America/Winnipeg": "204 431 584",
    "America/Regina": "306 474 639",
    "America/Edmonton": "368 403 587 780 825",
    "America/Vancouver": "236 250 257 604 672 778",
    "America/Halifax": "782 902",
    "America/Moncton": "428 506",
    "America/St_Johns": "709",
    "America/Whitehorse": "867",
}

AREA_CODE_ZONES: dict[str, str] = {
    code: zone for zone, codes in _ZONE_CODES.items() for code in codes.split()
}


def zone_for_phone(phone: str | None) -> str | None:
    """The IANA zone of a +1 number's area code, or None (not NANP, or an unknown code)."""
    if not phone:
        return None
    raw = phone.strip()
    digits = "".join(c for c in raw if c.isdigit())
    if raw.startswith("+") and not raw.startswith("+1"):
        return None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return AREA_CODE_ZONES.get(digits[:3]) if len(digits) == 10 else None
