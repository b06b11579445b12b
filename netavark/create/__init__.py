"""``netavark create``: validate and complete a network definition for Podman.

``input`` decodes the request, ``network.new_network`` runs the steps,
``drivers``/``plugin_driver`` hold driver specifics, ``subnets`` allocates
address space, ``validate`` and ``options`` hold the checks.
"""
