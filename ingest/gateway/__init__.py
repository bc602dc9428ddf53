"""The station device gateway: serial devices -> local journal -> central database.

- ``drivers``: framers and parsers (tanita, nibp, hl7 over MLLP, card_reader), pure;
- ``journal``: the local SQLite journal every frame is written to first;
- ``devices``: pyserial readers, one thread per port, reconnecting with backoff;
- ``forwarder``: store and forward in order, exactly once; officer matching; the
  central queries of ``/admin/devices``;
- ``runner``: ``portal gateway --config FILE``;
- ``simulators``: a simulator per driver and pseudo-terminal pairs (tests, bench).
"""
