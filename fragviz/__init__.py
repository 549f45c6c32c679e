"""fragviz: GPU fragmentation and capacity planning for Kubernetes clusters."""

__version__ = "0.1.0"
