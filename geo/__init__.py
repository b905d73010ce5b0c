"""Offline geoparser and event mapper for conflict news.

Data flows one way: text -> mentions -> events -> store -> views.
"""

__version__ = "0.1.0"
