# Aliases for the scripts the README names.
.PHONY: install demo test bench docs

install:
	./scripts/install.sh

demo:
	./scripts/demo.sh

test:
	./scripts/test.sh

docs: install
	.venv/bin/python scripts/gen_models_doc.py

bench: install
	.venv/bin/python -m bench
