"""QR codes for pages: an inline SVG (segno), sized by the page's CSS through its viewBox."""

import segno


def svg(data: str, *, label: str = "") -> str:
    """``data`` as a QR code (error correction M, with its quiet zone), dark on a white ground so it scans
    off a projector however the page around it is coloured. No style attributes, so the page's
    Content-Security-Policy has nothing to block; ``label`` becomes its <title>."""
    code = segno.make_qr(data, error="m", boost_error=False)
    return code.svg_inline(
        scale=1, omitsize=True, dark="#000", light="#fff", svgclass="qr", title=label or None
    )
