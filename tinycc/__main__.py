import gc

# the cycle collector would walk every object of the ~600 modules imported next, several times
# over (~0.04 s of CPU): their garbage is freed by reference counting (see cli.main)
gc.disable()
from .cli import main  # noqa: E402

gc.enable()
raise SystemExit(main())
