"""Controllers: the state and decisions behind each view, Qt-free (tested without a display).

One controller per view (napari keeps ``ViewerModel`` apart from its Qt window the same way):
it owns the view's data (the image list, the current item, decisions, undo/redo, job queues),
talks to the store and the runtime, and announces changes through :class:`Signal` callbacks.
The Qt view in :mod:`inspector.gui.views` binds widgets to it and holds no state of its own.
Long work goes through a :class:`inspector.jobs.Runner`: the GUI's thread pool in the window,
:class:`inspector.jobs.SyncRunner` in tests and scripts.
"""
