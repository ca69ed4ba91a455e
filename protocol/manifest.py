"""The election manifest: what an election is, region by region, as its CA signs it.

One manifest per region's CA and election: the election (id, name, date, real or
training), its contests (the form each uses, the region it covers, its options with their
ballot numbers and names), the name of every region its TPS lie in, and every TPS with its
registered voters (DPT, L and P). Kits, printed forms and the hub all read their names,
forms and voter counts from it, so none of them is typed twice.

Integers and strings only, as a result document: it is signed as canonical JSON
(protocol/manifest_sign.py). Everything that can be checked without the form templates is
checked when a manifest is built or read; :func:`check_forms` adds the templates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from protocol import tps as tps_codes
from protocol.configfile import parse_model
from protocol.errors import FieldError
from protocol.forms.schema import Template
from protocol.ids import check_id, is_training

FORMAT = "tps-election-manifest/1"
KOLOM_KOSONG = "KOLOM KOSONG"
NATIONWIDE = ""  # a contest's region: the whole country (PPWP, DPR, DPD)
# Every number on the form is three boxes: a TPS's register must fit in them.
MAX_DPT = 999
# The form's rows I.A, where the KPPS copies the TPS's register: men, women, total. Every
# template writes them so (the shared field scheme), and the kit and the hub both compare
# them with the register through :meth:`OfficialDpt.form_rows`.
DPT_MEN, DPT_WOMEN, DPT_TOTAL = "I.A.L", "I.A.P", "I.A.JML"
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Election(_Model):
    id: str = Field(description="the election id the kits' certificates bind")
    name: str = Field(min_length=1, max_length=200, description="its name, as KPU writes it")
    date: str = Field(description="voting day, YYYY-MM-DD")
    kind: Literal["real", "training"] = Field(description="training: a bimtek election")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "election.id")

    @field_validator("date")
    @classmethod
    def _date(cls, v: str) -> str:
        try:
            if _DATE.match(v) is None:
                raise ValueError
            dt.date.fromisoformat(v)
        except ValueError:
            raise FieldError("election.date", f"{v!r} is not a date YYYY-MM-DD") from None
        return v

    @model_validator(mode="after")
    def _kind(self) -> Election:
        # The id marks training (certificates bind it): the kind may only say the same.
        if (self.kind == "training") != is_training(self.id):
            raise FieldError(
                "election.kind",
                f"{self.kind!r} contradicts the id {self.id!r} (training ids start with latihan-)",
            )
        return self


class Option(_Model):
    number: int = Field(ge=1, le=99, description="ballot number (nomor urut)")
    names: list[str] = Field(
        min_length=1,
        max_length=2,
        description="the pair's names (candidate, running mate), or one name; "
        f'["{KOLOM_KOSONG}"] for the empty box of a single-candidate race',
    )

    @field_validator("names")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        if any(not n.strip() or n != n.strip() or len(n) > 120 for n in v):
            raise ValueError("names are non-empty, trimmed, at most 120 characters")
        return v

    @property
    def kolom_kosong(self) -> bool:
        return self.names == [KOLOM_KOSONG]


class Contest(_Model):
    form: str = Field(description="the form template id (tps-provision forms list)")
    region: str = Field(description="the region it covers (31, 31.71...); '' the whole country")
    options: list[Option] = Field(default_factory=list, description="in ballot order")

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if v != NATIONWIDE and not tps_codes.region_prefix_valid(v):
            raise ValueError(f"{v!r} is not a region code such as 31 or 31.71 ('' = nationwide)")
        return v

    @model_validator(mode="after")
    def _numbers(self) -> Contest:
        numbers = [o.number for o in self.options]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"form {self.form}: option numbers must be 1, 2, ... in order")
        return self

    def covers(self, tps: str) -> bool:
        return self.region == NATIONWIDE or tps.startswith(self.region + ".")


class Voters(_Model):
    """A TPS's registered voters (DPT), as KPU published them."""

    dpt_l: int = Field(ge=0, le=MAX_DPT, description="registered men (laki-laki)")
    dpt_p: int = Field(ge=0, le=MAX_DPT, description="registered women (perempuan)")

    @model_validator(mode="after")
    def _total(self) -> Voters:
        if self.dpt_l + self.dpt_p > MAX_DPT:
            raise ValueError(f"L + P = {self.dpt_l + self.dpt_p} does not fit three boxes")
        return self


@dataclass(frozen=True)
class OfficialDpt:
    """A TPS's official register, as the kit's decoder compares the form's rows I.A with it
    (edge/decode/official.py)."""

    men: int
    women: int

    def __post_init__(self) -> None:
        if self.men < 0 or self.women < 0:
            raise ValueError(f"a voter count cannot be negative: {self.men}, {self.women}")

    @property
    def total(self) -> int:
        return self.men + self.women

    def form_rows(self) -> dict[str, int]:
        """The value each voter row of the form should hold, by the register."""
        return {DPT_MEN: self.men, DPT_WOMEN: self.women, DPT_TOTAL: self.total}


class Manifest(_Model):
    format: Literal["tps-election-manifest/1"] = Field(description="format and version")
    election: Election
    region: str = Field(description="the region of the CA that signs it, e.g. 17.71")
    region_source: str = Field(description="where the region names come from (package, version)")
    regions: dict[str, str] = Field(description="region code -> its name, for every level held")
    contests: list[Contest] = Field(min_length=1)
    tps: dict[str, Voters] = Field(min_length=1, description="TPS code -> its DPT")

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if not tps_codes.region_prefix_valid(self.region):
            raise FieldError("region", f"{self.region!r} is not a region code")
        for code in self.tps:
            parsed = tps_codes.parse(code, field=f"tps.{code}")
            if str(parsed) != code:
                raise FieldError(f"tps.{code}", "TPS codes are written dotted, PP.KK.CC.DDDD.TTT")
            if not code.startswith(self.region + "."):
                raise FieldError(f"tps.{code}", f"outside the manifest's region {self.region}")
            for level in ("provinsi", "kabkota", "kecamatan", "desa"):
                if parsed.prefix(level) not in self.regions:
                    raise FieldError(f"tps.{code}", f"no name for its {level} in regions")
        seen: set[tuple[str, str]] = set()
        for contest in self.contests:
            key = (contest.form, contest.region)
            if key in seen:
                raise FieldError("contests", f"form {contest.form} twice for {contest.region!r}")
            seen.add(key)
            if contest.region != NATIONWIDE and contest.region not in self.regions:
                raise FieldError("contests", f"no name for the region {contest.region}")
        return self

    def voters(self, tps: str) -> Voters:
        try:
            return self.tps[tps]
        except KeyError:
            raise FieldError("tps", f"TPS {tps} is not in {self.election.id}'s manifest") from None

    def official_dpt(self, tps: str) -> OfficialDpt:
        voters = self.voters(tps)
        return OfficialDpt(voters.dpt_l, voters.dpt_p)

    def contests_for(self, tps: str) -> list[Contest]:
        return [c for c in self.contests if c.covers(tps)]

    def names_of(self, tps: str) -> dict[str, str]:
        """The name of each region holding ``tps``, provinsi to desa."""
        code = tps_codes.parse(tps)
        return {
            level: self.regions[code.prefix(level)]
            for level in ("provinsi", "kabkota", "kecamatan", "desa")
        }

    def to_json_value(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_manifest(value: Any) -> Manifest:
    """A manifest from decoded JSON; FieldError naming the first bad key."""
    if not isinstance(value, dict):
        raise FieldError("manifest", "a manifest is a JSON object")
    return parse_model(Manifest, value)


def check_forms(manifest: Manifest, load_template: Callable[[str], Template]) -> None:
    """Each contest's form exists and its options are the form's: as many, and KOLOM KOSONG
    exactly where the form prints it (option 1 on some single-candidate forms, 2 on others).
    """
    for contest in manifest.contests:
        where = f"contests[{contest.form} {contest.region or 'nationwide'}]"
        try:
            template = load_template(contest.form)
        except (ValueError, LookupError) as e:
            raise FieldError(where, str(e)) from e
        expected = [o.kolom_kosong for o in template.options]
        given = [o.kolom_kosong for o in contest.options]
        if len(given) != len(expected):
            raise FieldError(where, f"{len(given)} options, but the form prints {len(expected)}")
        if given != expected:
            at = [o.number for o in template.options if o.kolom_kosong]
            raise FieldError(
                where,
                f"{KOLOM_KOSONG} must be option {at[0]}"
                if at
                else f"this form has no {KOLOM_KOSONG}",
            )
