"""The exceptions of the trnsim module; the C++ side (_core) raises them too."""


class Error(Exception):
    """Base class of trnsim's errors."""


class InputError(Error, ValueError):
    """Bad input: a model, program, chip, key or value you gave. Exit code 2 of the CLI; the
    message is the CLI's one-line message and names the file and the place."""


class SimFault(Error, RuntimeError):
    """The simulated program did something the chip cannot do at run time (deadlock,
    out-of-bounds access, instruction budget), or run(check=True) found problems. Exit code 3
    of the CLI.

    report: the --check report when there was one ("" otherwise).
    result: the run's Result when the run itself finished (check problems), else None.
    """

    def __init__(self, message, report="", result=None):
        super().__init__(message)
        self.report = report
        self.result = result


for _cls in (Error, InputError, SimFault):  # shown as trnsim.InputError, where users import it
    _cls.__module__ = "trnsim"
