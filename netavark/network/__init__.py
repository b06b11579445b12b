"""Network drivers (bridge, macvlan/ipvlan, plugins) and what they share."""
