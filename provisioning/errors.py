"""Errors of the technician's tools; the CLI prints the message and exits non-zero."""


class ProvisioningError(Exception):
    """Root of every provisioning failure; the message says what to do."""


class PassphraseError(ProvisioningError):
    """The CA key could not be unlocked with the passphrase given."""


class CaStateError(ProvisioningError):
    """The CA directory is missing, incomplete, expired or already initialised."""


class EnrolmentError(ProvisioningError):
    """A kit could not be enrolled (bad TPS code, duplicate, unwritable output...)."""
