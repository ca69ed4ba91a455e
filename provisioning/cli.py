"""``tps-provision``: the technician's tools (regional CA, kit enrolment, forms)."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tps-kit")
def main() -> None:
    """Prepare a region's kits before they ship: CA, enrolment, bundles, forms, revocation."""


def _register() -> None:
    # Subcommand groups live beside what they drive; registering them here keeps one entry point.
    from provisioning.forms.cli import forms

    main.add_command(forms)


_register()
