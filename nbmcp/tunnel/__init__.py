"""Tunnels: a public HTTPS URL for a local server, through ngrok or a cloudflared quick tunnel.

``open_tunnel(port)`` returns a :class:`Tunnel` (``public_url``, ``alive()``, ``problem()``,
``close()``); :func:`choose_provider` picks the default; :data:`PROVIDERS` lists the providers,
one module each (:mod:`~nbmcp.tunnel.ngrok`, :mod:`~nbmcp.tunnel.cloudflared`). Importing this
package starts nothing and imports no provider library: pyngrok is imported when ngrok is used.

Layer: below http/ and server/ (which publish through it), above auth/; it imports only
``nbmcp.errors`` from the rest of nbmcp.
"""

from __future__ import annotations

from nbmcp.tunnel.base import Tunnel
from nbmcp.tunnel.choose import PROVIDERS, Provider, choose_provider, open_tunnel

__all__ = ["PROVIDERS", "Provider", "Tunnel", "choose_provider", "open_tunnel"]
