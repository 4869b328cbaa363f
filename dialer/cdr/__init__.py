"""Call detail records: what the switch posts at the end of every customer leg (mod_xml_cdr),
stored durably and used to settle attempts whose events were missed.

Inner shape, as in every context: `ports` (the CDR store), `adapters` (SQL), `fakes` (in
memory), `service` (receive a post, import an error-log directory, release unknown leads),
`wiring`; pure modules beside them: `parse` (the posted bodies -> `CdrFacts`), `settle`
(facts -> the attempt's `CallEnd`, and the verdict on an attempt nothing settled); `http` is
the thin switch-facing endpoint (``/fsapi/cdr``) of the API process.
"""

__all__ = ["adapters", "fakes", "http", "parse", "ports", "service", "settle", "wiring"]
