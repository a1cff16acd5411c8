"""The shipped runbooks, registered by name.

Add a runbook by writing a module here with a ``Runbook`` subclass and
registering an instance below; ``escalate validate`` then checks it.
"""

from runbooks.default import DefaultRunbook
from runbooks.demo import DemoRunbook
from runbooks.security_breach import SecurityBreachRunbook
from workflows.runbook import Registry

REGISTRY = Registry(default=DefaultRunbook.name)
REGISTRY.register(DefaultRunbook(), DemoRunbook(), SecurityBreachRunbook())
