"""One module per service; the engine imports ``adapters.<name>`` by the resource type."""
