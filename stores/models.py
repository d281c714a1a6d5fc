# Models arrive with their issues (see ARCHITECTURE.md).
