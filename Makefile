.PHONY: test run bench
test:
	./test.sh
run:
	go run ./cmd/usnet run
bench:
	go test -run='^$$' -bench=. -benchmem ./skb/ ./executor/ ./drivers/veth/ ./stack/
