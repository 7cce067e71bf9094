"""Every kind of figure dlpipeline draws, one module per kind, shared by every pipeline.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state), so
nodes stay pure, figures are safe to build in any thread and are freed once the catalog
has saved them. A pipeline's own ``plots.py`` composes these kinds into its figures.
"""
