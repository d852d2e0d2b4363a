# Seatwise. `make dev` runs everything locally; `make test` tests everything (CI runs it through .ci/run).
# Both install what they need: Go tools into ./bin, npm packages from the lock file, Chromium from Debian.

SHELL        := /bin/bash
ROOT         := $(abspath .)
BIN          := $(ROOT)/bin
RIE_VERSION  := v0.0.0-20261030222936-bef5c4ba774d
RIE          := $(BIN)/aws-lambda-rie
CHROMIUM     ?= /usr/bin/chromium
FUNCTIONS    := api sync staging export
export PATH  := $(BIN):$(PATH)

.PHONY: dev test test-go test-frontend build invoke bench lint graphsim deploy catalog frontend tools \
	check-moto chromium rie clean

## dev: run moto, the Graph simulator, the API and the SPA on http://127.0.0.1:$${PORT:-8080}
dev: check-moto frontend
	go build -o bin/seatwise-dev ./infra/dev
	exec bin/seatwise-dev

## test: Go unit + integration + Lambda event tests, frontend unit tests, browser test
test: check-moto chromium rie frontend
	go vet ./...
	CHROMIUM=$(CHROMIUM) go test -count=1 -timeout 25m ./...
	cd frontend && npm test

## graphsim: the Graph simulator alone, in the foreground
graphsim:
	go build -o bin/graphsim ./infra/graphsim
	exec bin/graphsim

## invoke: one function through aws-lambda-rie against the running `make dev` stack: make invoke FN=api EVENT=events/api-health.json
invoke: rie
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<$(FUNCTIONS)> EVENT=events/<file>.json"; exit 2; }
	go run ./infra/invoke -fn $(FN) -event $(EVENT)

## bench: the benchmarks of DESIGN §11 (lambda, sync, assign, usage, export), one line per figure
bench: check-moto rie
	go run ./infra/bench

## build: each function as a stripped linux/arm64 bootstrap in .aws-sam-like bin/lambda/<fn>/bootstrap
build:
	@for fn in $(FUNCTIONS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
	    -o bin/lambda/$$fn/bootstrap ./functions/$$fn || exit 1; \
	  printf '%-8s %s bytes\n' $$fn $$(stat -c %s bin/lambda/$$fn/bootstrap); \
	done

## lint: gofmt, go vet, cfn-lint
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	cfn-lint template.yaml
	cd frontend && npm run typecheck

## catalog: regenerate shared/catalog/catalog.json from ../shared/data/ms-licensing-product-names.csv
catalog:
	go run ./infra/catalog-gen

## deploy: sam build + sam deploy (ENV=dev|prod), then upload the SPA with its config.json
ENV ?= prod
deploy: frontend
	sam build
	sam deploy --config-env $(ENV)
	./infra/upload-spa.sh $(ENV)

frontend: frontend/node_modules/.installed
	cd frontend && npm run build

frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

tools: rie

rie: $(RIE)
$(RIE):
	GOBIN=$(BIN) go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

check-moto:
	@command -v moto_server >/dev/null || { echo "moto_server not found: install moto 5.2.1 with its server extra (pip install 'moto[server]==5.2.1'); it is preinstalled on this machine kind, and PyPI is not reachable here." >&2; exit 1; }

chromium:
	@test -x $(CHROMIUM) || { echo "installing chromium (Debian package) for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  { echo "could not install chromium: run 'apt-get install -y chromium' as root" >&2; exit 1; }; }

clean:
	rm -rf bin .local frontend/dist
