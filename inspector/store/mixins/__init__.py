"""The parts :class:`~inspector.store.LabelStore` is composed of, one job per module.

Each mixin adds one group of public methods on top of :class:`~inspector.store.mixins.base.StoreBase`
(connections, write transactions, class and image lookups); the SQL they need lives in the
function modules beside this package (``events``, ``predictions``, ``queries``, ``images``...).
"""
