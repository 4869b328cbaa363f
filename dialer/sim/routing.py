"""Where an answered originate goes: the caller-id flip, the transfer to the dialplan and
``execute_on_answer`` (event orders of transcripts a, j, l).
"""

from __future__ import annotations

from dialer.sim.channel import Channel
from dialer.sim.channel_table import ChannelTable
from dialer.sim.originate_parse import OriginateRequest
from dialer.sim.switch import SimSwitch

__all__ = ["execute_on_answer", "flip_cid", "transfer_to_dialplan"]


def flip_cid(ch: Channel) -> None:
    """``switch_channel_flip_cid``: after answer the leg presents the callee as its caller."""
    p = ch.profile
    orig_num = p.get("Caller-ID-Number", "")
    flipped: dict[str, str] = {}
    for key, value in p.items():
        if key == "Caller-ID-Name":
            continue
        if key == "Caller-ID-Number":
            flipped["Caller-ID-Name"] = p.get("Callee-ID-Name", "Outbound Call")
            flipped[key] = p.get("Callee-ID-Number", "")
        elif key == "Callee-ID-Name":
            continue
        elif key == "Callee-ID-Number":
            flipped[key] = orig_num
        else:
            flipped[key] = value
    ch.profile = flipped
    ch.variables["channel_cid_flipped"] = "yes"


def transfer_to_dialplan(sw: SimSwitch, ch: Channel, req: OriginateRequest) -> None:
    """Leave the originate for ``<exten> <dialplan> <context>``: caller profile 2 with the
    transfer source, CS_ROUTING, the caller-id flip, CALL_UPDATE, CS_EXECUTE (transcript a)."""
    p = ch.profile
    now = str(sw.clock.now_us())
    orig_cid = p.get("Caller-ID-Number", "")
    dialled = p.get("Destination-Number", "")
    new: dict[str, str] = {
        "Direction": "outbound",
        "Logical-Direction": "outbound",
        "Dialplan": req.dialplan,
    }
    for key in (
        "Caller-ID-Name",
        "Caller-ID-Number",
        "Orig-Caller-ID-Name",
        "Orig-Caller-ID-Number",
        "Callee-ID-Name",
        "Callee-ID-Number",
        "Network-Addr",
        "ANI",
    ):
        if key in p:
            new[key] = p[key]
    new["Destination-Number"] = req.destination
    new["Unique-ID"] = ch.uuid
    new["Source"] = "src/switch_ivr_originate.c"
    new["Transfer-Source"] = (
        f"{int(sw.now_s())}:{sw.new_uuid()}:bl_xfer:{req.destination}/{req.context}/{req.dialplan}"
    )
    new["Context"] = req.context
    new["RDNIS"] = dialled
    new["Channel-Name"] = ch.name
    new["Profile-Index"] = "2"
    new["Profile-Created-Time"] = now
    for key in ch.profile:
        if key.startswith("Channel-") and key != "Channel-Name":
            new[key] = ch.profile[key]
    for key in ("Screen-Bit", "Privacy-Hide-Name", "Privacy-Hide-Number"):
        new[key] = ch.profile.get(key, "false")
    ch.profile = new
    ch.hit_dialplan = True
    ch.variables["max_forwards"] = "70"
    ch.variables["original_destination_number"] = dialled
    ch.variables["original_caller_id_name"] = p.get("Caller-ID-Name", "")
    ch.variables["original_caller_id_number"] = orig_cid
    ch.variables["transfer_history"] = new["Transfer-Source"]
    ch.variables["transfer_source"] = new["Transfer-Source"]
    sw.channels.set_state(ch, "CS_ROUTING")
    flip_cid(ch)
    ch.variables["pre_transfer_caller_id_number"] = orig_cid
    sw.bus.channel_event(ch, "CALL_UPDATE", prefix=[("Direction", "RECV")])
    sw.channels.set_state(ch, "CS_EXECUTE")


def execute_on_answer(channels: ChannelTable, ch: Channel) -> None:
    """``execute_on_answer=<app> <args>``: runs (and completes) when the leg answers."""
    spec = ch.variables.get("execute_on_answer")
    if not spec:
        return
    app, _, data = spec.partition(" ")
    channels.run_briefly(ch, app, data)
