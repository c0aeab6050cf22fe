module etcd-pki.test/go-oracle

go 1.19
