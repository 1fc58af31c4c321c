"""The seed project's module path ``spiking.LIF_network_fnc``.

``from spikernn.spiking.LIF_network_fnc import LIF_network_fnc`` gives the same function as
``spikernn.spiking.LIF_network_fnc`` (defined in :mod:`spikernn.spiking.network`).
"""

from .network import LIF_network_fnc

__all__ = ["LIF_network_fnc"]
