"""The one error type users see. The CLI prints it as a single line and exits with code 2."""


class TinyccError(Exception):
    """A problem with the user's input (model, options) that tinycc reports and refuses.

    The message is one line and names what it can: file, operator index and name, tensor.
    """

    def __init__(self, message: str, *, file: str | None = None, op_index: int | None = None,
                 op_kind: str | None = None, tensor: str | None = None):
        self.file, self.op_index, self.op_kind, self.tensor = file, op_index, op_kind, tensor
        self.detail = message
        super().__init__(message)

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.op_index is not None:
            where.append(f"operator {self.op_index} ({self.op_kind or '?'})")
        if self.tensor:
            where.append(f"tensor '{self.tensor}'")
        text = f"{': '.join(where)}: {self.detail}" if where else self.detail
        return " ".join(text.split())  # always one line, whatever names and messages hold

    def located(self, **kw) -> "TinyccError":
        """Fill in location fields that are not yet known and return self."""
        for k, v in kw.items():
            if getattr(self, k) is None:
                setattr(self, k, v)
        return self
