package odoosim

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Generate builds a realistic accounting data set with n moves, the same
// for the same n and seed: three companies (two in Morocco, in MAD, one in
// France, in EUR), currencies (EUR, USD, MAD, CNY active; GBP, JPY
// archived), local and foreign vendors and customers, partners without a
// country, contacts of companies, archived partners that still have unpaid
// documents, and moves of every type and state: about 40% of the posted
// invoices paid, partial payments, several currencies, bills and invoices
// with one to three installments (payable/receivable lines with a
// date_maturity, the paid ones reconciled), drafts without invoice date,
// entries without due date.
func Generate(n int, seed int64) *Data {
	g := &gen{
		rng:   rand.New(rand.NewPCG(uint64(seed), uint64(seed)*0x9e3779b97f4a7c15+1)),
		d:     &Data{},
		dates: map[int]string{},
	}
	g.fixed()
	g.makePartners(n)
	g.makeMoves(n)
	g.archivePartners()
	g.ranks()
	return g.d
}

type gen struct {
	rng   *rand.Rand
	d     *Data
	dates map[int]string // interned dates, by day number

	accounts map[int64]map[string]int64 // company -> role -> account id
	journals map[int64]map[string]int64 // company -> journal type -> id
	rate     map[int64]float64          // currency id -> units per EUR

	vendors, customers map[int64][]int64 // company -> eligible partners
	role               map[int64]string  // partner -> vendor, customer, both
}

const setupStamp = "2023-12-01 08:00:00"

var genEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const genDays = 731 // 2024-01-01 .. 2025-12-31

func (g *gen) date(day int) string {
	if s, ok := g.dates[day]; ok {
		return s
	}
	s := genEpoch.AddDate(0, 0, day).Format("2006-01-02")
	g.dates[day] = s
	return s
}

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

type countrySpec struct {
	code, name string
	currency   int64
	phone      int64
	cities     []string
	prefixes   []string
	trades     []string
	suffixes   []string
	first      []string
	last       []string
	tld        string
}

var countrySpecs = []countrySpec{
	{"MA", "Morocco", 3, 212, []string{"Casablanca", "Rabat", "Tanger", "Marrakech", "Fès", "Agadir"},
		[]string{"Atlas", "Maghreb", "Sahara", "Rif", "Souss", "Chaouia", "Tafilalet", "Oasis", "Zellige", "Argan", "Doukkala", "Anfa"},
		[]string{"Négoce", "Textile", "Agro", "Logistique", "Import", "Équipements", "Emballages", "Céramique", "Chimie", "Services"},
		[]string{"SARL", "SA", "SARL AU"},
		[]string{"Youssef", "Fatima Zahra", "Karim", "Salma", "Mehdi", "Khadija", "Omar", "Aïcha"},
		[]string{"El Amrani", "Bennani", "Alaoui", "Tazi", "Berrada", "Chraibi", "Idrissi", "Fassi"}, "ma"},
	{"FR", "France", 1, 33, []string{"Lyon", "Paris", "Marseille", "Lille", "Nantes", "Bordeaux"},
		[]string{"Lumière", "Rhône", "Provence", "Bretagne", "Loire", "Alsace", "Vosges", "Normandie", "Garonne", "Savoie"},
		[]string{"Industries", "Distribution", "Conseil", "Mécanique", "Transports", "Plastiques", "Électronique", "Papeterie"},
		[]string{"SAS", "SARL", "SA"},
		[]string{"Jean", "Marie", "Pierre", "Camille", "Luc", "Élodie", "Hélène", "François"},
		[]string{"Dupont", "Lefèvre", "Martin", "Bernard", "Moreau", "Girard", "Roux", "Fournier"}, "fr"},
	{"US", "United States", 2, 1, []string{"New York", "Houston", "Chicago", "Seattle"},
		[]string{"Pacific", "Hudson", "Lone Star", "Great Lakes", "Summit", "Redwood", "Liberty"},
		[]string{"Supply", "Components", "Trading", "Machinery", "Logistics", "Labs"},
		[]string{"Inc.", "LLC", "Corp."},
		[]string{"John", "Emily", "Michael", "Sarah"}, []string{"Smith", "Johnson", "O'Brien", "Miller"}, "com"},
	{"CN", "China", 4, 86, []string{"Shenzhen", "Ningbo", "Guangzhou", "Suzhou"},
		[]string{"Shenzhen", "Ningbo", "Guangzhou", "Suzhou", "Xiamen", "Qingdao", "Hangzhou"},
		[]string{"Electronics", "Textile", "Hardware", "Packaging", "Machinery", "Plastics"},
		[]string{"Co., Ltd"},
		[]string{"Wei", "Li", "Jing", "Hao"}, []string{"Zhang", "Wang", "Chen", "Liu"}, "cn"},
	{"DE", "Germany", 1, 49, []string{"Hamburg", "München", "Köln"},
		[]string{"Rhein", "Bayern", "Schwarzwald", "Hansa", "Elbe", "Alpen"},
		[]string{"Maschinenbau", "Technik", "Handel", "Logistik", "Chemie"}, []string{"GmbH", "AG"},
		[]string{"Hans", "Anna", "Jürgen", "Katrin"}, []string{"Müller", "Schmidt", "Weiß", "Groß"}, "de"},
	{"ES", "Spain", 1, 34, []string{"Madrid", "Valencia", "Sevilla"},
		[]string{"Iberia", "Andalucía", "Levante", "Galicia", "Castilla"},
		[]string{"Comercial", "Textil", "Aceites", "Cerámica", "Transportes"}, []string{"S.L.", "S.A."},
		[]string{"Ana", "José", "Lucía", "Javier"}, []string{"García", "Martínez", "López", "Núñez"}, "es"},
	{"BE", "Belgium", 1, 32, []string{"Bruxelles", "Anvers", "Liège"},
		[]string{"Brabant", "Flandre", "Meuse", "Ardennes"}, []string{"Trading", "Chocolaterie", "Logistics"},
		[]string{"SRL", "NV"}, []string{"Luc", "Sofie"}, []string{"Peeters", "Janssens"}, "be"},
	{"IT", "Italy", 1, 39, []string{"Milano", "Torino", "Firenze"},
		[]string{"Lombardia", "Toscana", "Veneto", "Piemonte"}, []string{"Meccanica", "Tessile", "Alimentari", "Ceramiche"},
		[]string{"S.r.l.", "S.p.A."}, []string{"Giulia", "Marco"}, []string{"Rossi", "Bianchi"}, "it"},
	{"GB", "United Kingdom", 5, 44, []string{"London", "Manchester"},
		[]string{"Thames", "Pennine", "Cotswold", "Mersey"}, []string{"Supplies", "Engineering", "Imports"},
		[]string{"Ltd", "PLC"}, []string{"Oliver", "Amelia"}, []string{"Taylor", "Davies"}, "co.uk"},
	{"TN", "Tunisia", 0, 216, []string{"Tunis", "Sfax"},
		[]string{"Carthage", "Sfax", "Djerba", "Sousse"}, []string{"Textile", "Huilerie", "Négoce"}, []string{"SARL"},
		[]string{"Sami", "Leïla"}, []string{"Ben Ali", "Trabelsi"}, "tn"},
	{"SN", "Senegal", 0, 221, []string{"Dakar"},
		[]string{"Dakar", "Casamance", "Teranga"}, []string{"Négoce", "Pêcheries", "Agro"}, []string{"SUARL", "SA"},
		[]string{"Moussa", "Awa"}, []string{"Diop", "Ndiaye"}, "sn"},
	{"CA", "Canada", 0, 1, []string{"Montréal", "Toronto"},
		[]string{"Laurentides", "Rocky Mountain", "Maple", "Yukon"}, []string{"Supply", "Forestry", "Trading"},
		[]string{"Inc."}, []string{"Étienne", "Chloe"}, []string{"Tremblay", "Gagnon"}, "ca"},
	{"TR", "Türkiye", 0, 90, []string{"İstanbul", "İzmir"},
		[]string{"Anatolia", "Bosphorus", "Ege", "Karadeniz"}, []string{"Tekstil", "Makina", "Ticaret"},
		[]string{"A.Ş.", "Ltd. Şti."}, []string{"Mehmet", "Ayşe"}, []string{"Yılmaz", "Öztürk"}, "tr"},
	{"CI", "Côte d'Ivoire", 0, 225, []string{"Abidjan"},
		[]string{"Abidjan", "Lagunes", "Cacao"}, []string{"Négoce", "Export", "Agro"}, []string{"SARL"},
		[]string{"Koffi", "Aya"}, []string{"Kouassi", "Traoré"}, "ci"},
}

var noCountrySpec = countrySpec{prefixes: []string{"Global", "Euro", "Trans", "Inter", "Omni"},
	trades: []string{"Trading", "Services", "Consulting"}, suffixes: []string{""},
	first: []string{"Alex", "Sam"}, last: []string{"Morgan", "Lee"}}

// fixed makes the records that do not depend on the seed: currencies,
// countries, companies, their partners, journals and accounts.
func (g *gen) fixed() {
	d := g.d
	type cur struct {
		name, full, sym string
		rate            float64
		active          bool
		dec             int64
	}
	for i, c := range []cur{{"EUR", "Euro", "€", 1, true, 2}, {"USD", "United States dollar", "$", 1.08, true, 2},
		{"MAD", "Moroccan dirham", "DH", 10.85, true, 2}, {"CNY", "Chinese yuan", "¥", 7.8, true, 2},
		{"GBP", "Pound sterling", "£", 0.85, false, 2}, {"JPY", "Japanese yen", "¥", 160, false, 0}} {
		d.Currencies = append(d.Currencies, Currency{ID: int64(i + 1), Name: c.name, FullName: c.full,
			Symbol: c.sym, Rounding: math.Pow(10, -float64(c.dec)), DecimalPlaces: c.dec, Active: c.active,
			Rate: c.rate, CreateDate: setupStamp, WriteDate: setupStamp})
	}
	g.rate = map[int64]float64{}
	for _, c := range d.Currencies {
		g.rate[c.ID] = c.Rate
	}
	for i, c := range countrySpecs {
		d.Countries = append(d.Countries, Country{ID: int64(i + 1), Name: c.name, Code: c.code,
			CurrencyID: c.currency, PhoneCode: c.phone, CreateDate: setupStamp, WriteDate: setupStamp})
	}
	type co struct {
		name, city, vat  string
		country, cur, up int64
	}
	companies := []co{
		{"Atlas Distribution SARL", "Casablanca", "MA001526378000061", 1, 3, 0},
		{"Lumière Industries SAS", "Lyon", "FR40512345678", 2, 1, 0},
		{"Atlas Export Tanger SARL", "Tanger", "MA002846193000042", 1, 3, 1},
	}
	for i, c := range companies {
		id := int64(i + 1)
		d.Companies = append(d.Companies, Company{ID: id, Name: c.name, PartnerID: id, CountryID: c.country,
			CurrencyID: c.cur, ParentID: c.up, VAT: c.vat, City: c.city, Active: true,
			CreateDate: setupStamp, WriteDate: setupStamp})
		d.Partners = append(d.Partners, Partner{ID: id, Name: c.name, IsCompany: true, Type: "contact",
			CountryID: c.country, City: c.city, VAT: c.vat, Active: true, CreateDate: setupStamp, WriteDate: setupStamp})
	}
	g.accounts = map[int64]map[string]int64{}
	g.journals = map[int64]map[string]int64{}
	type acc struct{ role, ma, fr, nameMA, nameFR, typ string }
	accs := []acc{
		{"receivable", "342100", "411000", "Clients", "Clients", "asset_receivable"},
		{"payable", "441100", "401000", "Fournisseurs", "Fournisseurs", "liability_payable"},
		{"income", "711100", "707000", "Ventes de marchandises", "Ventes de marchandises", "income"},
		{"expense", "611100", "607000", "Achats de marchandises", "Achats de marchandises", "expense"},
		{"tax_out", "445500", "445710", "État - TVA facturée", "TVA collectée", "liability_current"},
		{"tax_in", "345500", "445660", "État - TVA récupérable", "TVA déductible sur autres biens et services", "asset_current"},
		{"bank", "514100", "512000", "Banque", "Banque", "asset_cash"},
		{"rent", "613100", "613200", "Locations et charges locatives", "Locations immobilières", "expense"},
		{"suspense", "471000", "471000", "Compte d'attente (ancien)", "Compte d'attente (ancien)", "asset_current"},
	}
	for _, c := range d.Companies {
		g.accounts[c.ID] = map[string]int64{}
		for _, a := range accs {
			id := int64(len(d.Accounts) + 1)
			code, name := a.ma, a.nameMA
			if c.CountryID == 2 {
				code, name = a.fr, a.nameFR
			}
			d.Accounts = append(d.Accounts, Account{ID: id, Code: code, Name: name, AccountType: a.typ,
				CompanyID: c.ID, Reconcile: a.role == "receivable" || a.role == "payable",
				Deprecated: a.role == "suspense", CreateDate: setupStamp, WriteDate: setupStamp})
			g.accounts[c.ID][a.role] = id
		}
	}
	type jr struct{ code, name, typ, acc string }
	jrs := []jr{{"INV", "Customer Invoices", "sale", "income"}, {"BILL", "Vendor Bills", "purchase", "expense"},
		{"MISC", "Miscellaneous Operations", "general", ""}, {"BNK1", "Bank", "bank", "bank"}}
	for _, c := range d.Companies {
		g.journals[c.ID] = map[string]int64{}
		for i, j := range jrs {
			id := int64(len(d.Journals) + 1)
			d.Journals = append(d.Journals, Journal{ID: id, Name: j.name, Code: j.code, Type: j.typ, CompanyID: c.ID,
				DefaultAccountID: g.accounts[c.ID][j.acc], Sequence: int64(5 + i), Active: true,
				CreateDate: setupStamp, WriteDate: setupStamp})
			g.journals[c.ID][j.typ] = id
		}
	}
	d.Journals = append(d.Journals, Journal{ID: int64(len(d.Journals) + 1), Name: "Old Sales (closed)", Code: "OLD",
		Type: "sale", CompanyID: 2, DefaultAccountID: g.accounts[2]["income"], Sequence: 20, Active: false,
		CreateDate: setupStamp, WriteDate: setupStamp})
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b)
}

// makePartners makes vendors and customers, local and foreign, with and
// without a country, some restricted to one company, some with contacts.
func (g *gen) makePartners(nMoves int) {
	d := g.d
	count := min(max(nMoves/12, 40), 4000)
	g.role = map[int64]string{}
	stamp := func(id int64) string {
		return time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Minute).
			Format("2006-01-02 15:04:05")
	}
	add := func(p Partner) int64 {
		p.ID = int64(len(d.Partners) + 1)
		p.CreateDate, p.WriteDate = stamp(p.ID), stamp(p.ID)
		p.Active = true
		if p.Type == "" {
			p.Type = "contact"
		}
		d.Partners = append(d.Partners, p)
		return p.ID
	}
	foreign := countrySpecs[2:]
	for i := 0; i < count; i++ {
		var spec countrySpec
		var country int64
		switch r := g.rng.Float64(); {
		case r < 0.35:
			spec, country = countrySpecs[0], 1
		case r < 0.60:
			spec, country = countrySpecs[1], 2
		case r < 0.93:
			k := g.rng.IntN(len(foreign))
			spec, country = foreign[k], int64(k+3)
		default:
			spec = noCountrySpec
		}
		role := "vendor"
		switch r := g.rng.Float64(); {
		case r < 0.45:
		case r < 0.90:
			role = "customer"
		default:
			role = "both"
		}
		p := Partner{CountryID: country, IsCompany: g.chance(0.85)}
		if p.IsCompany {
			p.Name = g.pick(spec.prefixes) + " " + g.pick(spec.trades)
			if g.chance(0.05) {
				p.Name += " & Fils"
			}
			if suf := g.pick(spec.suffixes); suf != "" {
				p.Name += " " + suf
			}
		} else {
			p.Name = g.pick(spec.first) + " " + g.pick(spec.last)
		}
		if len(spec.cities) > 0 {
			p.City = g.pick(spec.cities)
			p.Street = strconv.Itoa(1+g.rng.IntN(200)) + " " + g.pick([]string{"Rue", "Avenue", "Boulevard"}) +
				" " + g.pick(spec.prefixes)
		}
		if p.IsCompany && g.chance(0.7) && spec.code != "" {
			p.VAT = spec.code + g.digits(cond(spec.code == "MA", 15, 11))
		}
		if g.chance(0.6) {
			tld := cond(spec.tld == "", "com", spec.tld)
			p.Email = "contact@" + slug(p.Name) + "." + tld
		}
		if g.chance(0.5) && spec.phone != 0 {
			p.Phone = "+" + strconv.FormatInt(spec.phone, 10) + " " + g.digits(9)
		}
		if g.chance(0.3) {
			p.Ref = cond(role == "customer", "C", "F") + g.digits(5)
		}
		if g.chance(0.10) {
			switch country {
			case 1:
				p.CompanyID = int64(cond(g.chance(0.5), 1, 3))
			case 2:
				p.CompanyID = 2
			default:
				p.CompanyID = int64(1 + g.rng.IntN(3))
			}
		}
		id := add(p)
		g.role[id] = role
		if p.IsCompany && g.chance(0.10) {
			c := Partner{Name: g.pick(spec.first) + " " + g.pick(spec.last), ParentID: id, CountryID: country,
				City: p.City, CompanyID: p.CompanyID, Type: cond(g.chance(0.5), "invoice", "contact"),
				Email: cond(p.Email != "", "compta@"+strings.TrimPrefix(p.Email, "contact@"), "")}
			g.role[add(c)] = role
		}
	}
	// A few partners whose names and addresses exercise the wire format.
	edge := []Partner{
		{Name: "Café l'Étoile & Fils", IsCompany: true, CountryID: 2, City: "Paris", Street: "12 Rue\vde la Paix"},
		{Name: "Import <Export> \"Tanja\" SARL", IsCompany: true, CountryID: 1, City: "Tanger", VAT: "MA000111222000033"},
		{Name: "Bazar 🌟 Marrakech", IsCompany: true, CountryID: 1, City: "Marrakech"},
		{Name: "Nordic Trade AB", IsCompany: true, City: "Stockholm"}, // no country
	}
	for i, p := range edge {
		g.role[add(p)] = []string{"customer", "vendor", "customer", "vendor"}[i]
	}
	// Eligible partners per company and role.
	g.vendors, g.customers = map[int64][]int64{}, map[int64][]int64{}
	for _, c := range d.Companies {
		for _, p := range d.Partners {
			r, ok := g.role[p.ID]
			if !ok || (p.CompanyID != 0 && p.CompanyID != c.ID) {
				continue
			}
			if r == "vendor" || r == "both" {
				g.vendors[c.ID] = append(g.vendors[c.ID], p.ID)
			}
			if r == "customer" || r == "both" {
				g.customers[c.ID] = append(g.customers[c.ID], p.ID)
			}
		}
	}
}

// moveSpec is a move being generated, before names are given.
type moveSpec struct {
	idx      int
	day      int
	company  int64
	moveType string
	journal  int64
}

var (
	prodIn  = []string{"Matières premières", "Pièces détachées", "Emballages carton", "Transport international", "Prestations de maintenance", "Fournitures de bureau", "Licences logicielles", "Électricité", "Location entrepôt"}
	prodOut = []string{"Vente de marchandises", "Installation sur site", "Formation utilisateurs", "Contrat de service annuel", "Pièces de rechange", "Frais de livraison", "Conseil (jours)"}
	taxMA   = []int64{2000, 2000, 2000, 1400, 1000, 700, 0}
	taxFR   = []int64{2000, 2000, 2000, 1000, 550, 0}
)

func (g *gen) makeMoves(n int) {
	d := g.d
	d.Moves = make([]Move, 0, n)
	d.MoveLines = make([]MoveLine, 0, n*5)
	specs := make([]moveSpec, n)
	for i := range specs {
		s := &specs[i]
		s.idx = i
		switch r := g.rng.Float64(); {
		case r < 0.45:
			s.company = 1
		case r < 0.85:
			s.company = 2
		default:
			s.company = 3
		}
		switch r := g.rng.Float64(); {
		case r < 0.36:
			s.moveType = "in_invoice"
		case r < 0.72:
			s.moveType = "out_invoice"
		case r < 0.77:
			s.moveType = "in_refund"
		case r < 0.82:
			s.moveType = "out_refund"
		case r < 0.96:
			s.moveType = "entry"
		case r < 0.98:
			s.moveType = "out_receipt"
		default:
			s.moveType = "in_receipt"
		}
		// Moves are entered in id order over the two years, a little after
		// their accounting date.
		base := 0
		if n > 1 {
			base = i * (genDays - 1) / (n - 1)
		}
		s.day = max(base-g.rng.IntN(12), 0)
		jt := "general"
		switch {
		case strings.HasPrefix(s.moveType, "out_"):
			jt = "sale"
		case strings.HasPrefix(s.moveType, "in_"):
			jt = "purchase"
		}
		s.journal = g.journals[s.company][jt]
	}
	for i := range specs {
		g.makeMove(&specs[i], n)
	}
	g.nameMoves(specs)
	for i := range d.MoveLines {
		l := &d.MoveLines[i]
		mv := &d.Moves[l.MoveID-1]
		l.MoveName, l.ParentState = mv.Name, mv.State
	}
}

func (g *gen) toCompany(cents int64, currency, company int64) int64 {
	cc := g.d.Companies[company-1].CurrencyID
	if cc == currency {
		return cents
	}
	return int64(math.Round(float64(cents) * g.rate[cc] / g.rate[currency]))
}

func money(c int64) float64 { return float64(c) / 100 }

// split divides total into n shares (cents); the last takes the remainder.
func split(total int64, shares []int64) []int64 {
	out := make([]int64, len(shares))
	var sum, done int64
	for _, s := range shares {
		sum += s
	}
	for i := range shares[:len(shares)-1] {
		out[i] = total * shares[i] / sum
		done += out[i]
	}
	out[len(out)-1] = total - done
	return out
}

func (g *gen) makeMove(s *moveSpec, n int) {
	d := g.d
	id := int64(s.idx + 1)
	company := &d.Companies[s.company-1]
	mv := Move{ID: id, MoveType: s.moveType, CompanyID: s.company, JournalID: s.journal, Date: g.date(s.day),
		PaymentState: "not_paid"}
	isEntry := s.moveType == "entry"
	switch r := g.rng.Float64(); {
	case isEntry && r < 0.9, !isEntry && r < 0.80:
		mv.State = "posted"
	case isEntry, r < 0.92:
		mv.State = "draft"
	default:
		mv.State = "cancel"
	}
	mv.PostedBefore = mv.State == "posted" || (mv.State == "cancel" && g.chance(0.7)) ||
		(mv.State == "draft" && g.chance(0.1))
	// Creation: in batches of moves sharing a timestamp (imports, batch
	// postings); write_date changes when a payment is reconciled.
	createDay := s.day + g.rng.IntN(4)
	create := genEpoch.AddDate(0, 0, createDay).Add(time.Duration(8*3600+(s.idx/7%40)*600) * time.Second)
	mv.CreateDate = create.Format("2006-01-02 15:04:05")
	mv.WriteDate = mv.CreateDate

	out := strings.HasPrefix(s.moveType, "out_")
	refund := strings.HasSuffix(s.moveType, "_refund")
	var partner int64
	switch {
	case isEntry:
		if g.chance(0.5) {
			pool := g.vendors[s.company]
			partner = pool[g.rng.IntN(len(pool))]
		}
	case out:
		pool := g.customers[s.company]
		partner = pool[g.rng.IntN(len(pool))]
	default:
		pool := g.vendors[s.company]
		partner = pool[g.rng.IntN(len(pool))]
	}
	mv.PartnerID = partner
	commercial := partner
	var pcountry int64
	if partner != 0 {
		p := &d.Partners[partner-1]
		if p.ParentID != 0 {
			commercial = p.ParentID
		}
		pcountry = d.Partners[commercial-1].CountryID
	}
	mv.CommercialPartnerID = commercial

	mv.CurrencyID = company.CurrencyID
	if !isEntry && !g.chance(0.75) {
		if pcountry != 0 {
			if c := d.Countries[pcountry-1].CurrencyID; c != 0 && c <= 4 && c != company.CurrencyID && g.chance(0.6) {
				mv.CurrencyID = c
			}
		}
		if mv.CurrencyID == company.CurrencyID {
			mv.CurrencyID = cond[int64](company.CurrencyID == 3 && g.chance(0.5), 1, 2)
		}
	}

	firstLine := int64(len(d.MoveLines) + 1)
	addLine := func(l MoveLine) {
		l.ID = int64(len(d.MoveLines) + 1)
		l.MoveID, l.CompanyID, l.JournalID, l.Date = id, s.company, s.journal, mv.Date
		l.PartnerID = commercial
		if l.CurrencyID == 0 {
			l.CurrencyID = mv.CurrencyID
		}
		l.CreateDate, l.WriteDate = mv.CreateDate, mv.CreateDate
		d.MoveLines = append(d.MoveLines, l)
	}
	accs := g.accounts[s.company]

	if isEntry {
		amount := int64(20000 + g.rng.IntN(2000000))
		label := g.pick([]string{"Loyer", "Salaires", "Frais bancaires", "Régularisation", "Assurance"})
		mv.Ref = label + " " + mv.Date[:7]
		debitAcc := cond(label == "Loyer", accs["rent"], accs["expense"])
		addLine(MoveLine{Sequence: 10, DisplayType: "product", Name: label, AccountID: debitAcc,
			Debit: money(amount), Balance: money(amount), AmountCurrency: money(amount), Quantity: 1})
		addLine(MoveLine{Sequence: 20, DisplayType: "product", Name: label, AccountID: accs["bank"],
			Credit: money(amount), Balance: -money(amount), AmountCurrency: -money(amount), Quantity: 1})
		mv.AmountUntaxed, mv.AmountTotal = money(amount), money(amount)
		mv.AmountUntaxedSigned, mv.AmountTotalSigned = money(amount), money(amount)
		g.finishMove(&mv, firstLine)
		return
	}

	// Invoice dates and terms.
	invDay := s.day
	if !out && g.chance(0.2) {
		invDay = max(s.day-1-g.rng.IntN(10), 0)
	}
	hasInvoiceDate := mv.State != "draft" || g.chance(0.5)
	if hasInvoiceDate {
		mv.InvoiceDate = g.date(invDay)
	}
	var due []int
	var shares []int64
	switch r := g.rng.Float64(); {
	case refund || strings.HasSuffix(s.moveType, "_receipt"):
		due, shares = []int{0}, []int64{1}
	case r < 0.60:
		due, shares = []int{[]int{0, 15, 30, 30, 45, 60}[g.rng.IntN(6)]}, []int64{1}
	case r < 0.85:
		due, shares = []int{30, 60}, cond(g.chance(0.5), []int64{1, 1}, []int64{3, 7})
	default:
		due, shares = []int{30, 60, 90}, []int64{1, 1, 1}
	}

	// Product lines (document currency, in cents).
	dir := int64(1) // sign of the product lines' balance: bills debit
	if out != refund {
		dir = -1
	}
	rates := cond(company.CountryID == 1, taxMA, taxFR)
	taxRate := rates[g.rng.IntN(len(rates))]
	if pcountry != company.CountryID && pcountry != 0 && g.chance(0.6) {
		taxRate = 0 // exports and many imports carry no local VAT
	}
	var untaxed, untaxedComp int64
	nlines := 1 + g.rng.IntN(3)
	if g.chance(0.1) {
		addLine(MoveLine{Sequence: 5, DisplayType: "line_section",
			Name: g.pick([]string{"Lot 1", "Commande du mois", "Services"})})
	}
	for k := 0; k < nlines; k++ {
		qty := int64(1 + g.rng.IntN(20))
		price := int64(500 + g.rng.IntN(300000))
		sub := qty * price
		comp := g.toCompany(sub, mv.CurrencyID, s.company)
		untaxed += sub
		untaxedComp += comp
		acc := cond(out, accs["income"], accs["expense"])
		l := MoveLine{Sequence: int64(10 + k), DisplayType: "product", Name: g.pick(cond(out, prodOut, prodIn)),
			AccountID: acc, Quantity: float64(qty), PriceUnit: money(price), PriceSubtotal: money(sub),
			Balance: money(dir * comp), AmountCurrency: money(dir * sub)}
		l.Debit, l.Credit = money(max(dir*comp, 0)), money(max(-dir*comp, 0))
		addLine(l)
	}
	tax := untaxed * taxRate / 10000
	taxComp := untaxedComp * taxRate / 10000
	if tax > 0 {
		acc := cond(out, accs["tax_out"], accs["tax_in"])
		l := MoveLine{Sequence: 100, DisplayType: "tax", Name: "TVA " + strconv.FormatFloat(float64(taxRate)/100, 'f', -1, 64) + "%",
			AccountID: acc, Balance: money(dir * taxComp), AmountCurrency: money(dir * tax)}
		l.Debit, l.Credit = money(max(dir*taxComp, 0)), money(max(-dir*taxComp, 0))
		addLine(l)
	}
	total, totalComp := untaxed+tax, untaxedComp+taxComp
	mv.AmountUntaxed, mv.AmountTax, mv.AmountTotal = money(untaxed), money(tax), money(total)

	// Payment: which part of each installment is still open (document cents).
	parts := split(total, shares)
	partsComp := split(totalComp, shares)
	open := slices.Clone(parts)
	payDay := -1
	if mv.State == "posted" {
		r := g.rng.Float64()
		if strings.HasSuffix(s.moveType, "_receipt") {
			r *= 0.5 // receipts are mostly paid at once
		}
		switch {
		case r < 0.30:
			mv.PaymentState = "paid"
		case r < 0.40:
			mv.PaymentState = "in_payment"
		case r < 0.55:
			mv.PaymentState = "partial"
		case r < 0.58 && !refund:
			mv.PaymentState = "reversed"
		}
		switch mv.PaymentState {
		case "paid", "in_payment", "reversed":
			clear(open)
		case "partial":
			full := g.rng.IntN(len(parts))
			for k := 0; k < full; k++ {
				open[k] = 0
			}
			if full == 0 || g.chance(0.5) {
				// and part of the next installment
				frac := 0.1 + 0.8*g.rng.Float64()
				paid := int64(math.Round(float64(open[full]) * frac))
				open[full] -= max(min(paid, open[full]-1), 1)
			}
		}
		if mv.PaymentState != "not_paid" {
			payDay = invDay + due[0] + g.rng.IntN(20) - 5
		}
	}
	if payDay >= 0 {
		// Payments are reconciled in batches: many moves share the stamp.
		mv.WriteDate = genEpoch.AddDate(0, 0, max(payDay, createDay+1)).Add(16*time.Hour + 30*time.Minute).
			Format("2006-01-02 15:04:05")
	}
	matching := "A" + strconv.FormatInt(id, 10)
	var openDoc, openComp int64
	for k := range parts {
		compOpen := partsComp[k]
		if open[k] != parts[k] {
			compOpen = int64(math.Round(float64(partsComp[k]) * float64(open[k]) / float64(parts[k])))
		}
		openDoc += open[k]
		openComp += compOpen
		l := MoveLine{Sequence: int64(1000 + k), DisplayType: "payment_term",
			AccountID: cond(out, accs["receivable"], accs["payable"]),
			Balance:   money(-dir * partsComp[k]), AmountCurrency: money(-dir * parts[k]),
			AmountResidual: money(-dir * compOpen), AmountResidualCurrency: money(-dir * open[k]),
			Reconciled: open[k] == 0}
		if len(parts) > 1 {
			l.Name = "installment #" + strconv.Itoa(k+1)
		}
		l.Debit, l.Credit = money(max(-dir*partsComp[k], 0)), money(max(dir*partsComp[k], 0))
		switch {
		case open[k] == 0:
			l.MatchingNumber = matching
		case open[k] != parts[k]:
			l.MatchingNumber = "P" + strconv.FormatInt(id, 10)
		}
		day := invDay + due[k]
		l.DateMaturity = g.date(day)
		if !hasInvoiceDate {
			l.DateMaturity = mv.Date
		}
		if payDay >= 0 {
			l.WriteDate = mv.WriteDate
		}
		addLine(l)
	}
	if hasInvoiceDate {
		mv.InvoiceDateDue = g.date(invDay + due[len(due)-1])
	}
	mv.AmountResidual = money(openDoc)
	sign := cond[int64](out != refund, 1, -1) // amount_*_signed: negative for bills and customer refunds
	mv.AmountUntaxedSigned = money(sign * untaxedComp)
	mv.AmountTotalSigned = money(sign * totalComp)
	mv.AmountResidualSigned = money(sign * openComp)
	if !out && g.chance(0.8) {
		mv.Ref = g.pick([]string{"FAC-", "INV-", "F", "BL "}) + g.digits(5)
		mv.PaymentReference = mv.Ref
	}
	if out && g.chance(0.1) {
		mv.InvoiceOrigin = "S" + g.digits(5)
	}
	if out && g.chance(0.2) {
		mv.Ref = "PO " + g.digits(4)
	}
	g.finishMove(&mv, firstLine)
}

func (g *gen) finishMove(mv *Move, firstLine int64) {
	last := int64(len(g.d.MoveLines))
	mv.LineIDs = make([]int64, 0, last-firstLine+1)
	for id := firstLine; id <= last; id++ {
		mv.LineIDs = append(mv.LineIDs, id)
	}
	for i := firstLine - 1; i < last; i++ {
		l := &g.d.MoveLines[i]
		if l.WriteDate < mv.WriteDate {
			l.WriteDate = mv.WriteDate
		}
	}
	g.d.Moves = append(g.d.Moves, *mv)
}

// nameMoves gives sequence numbers (JOURNAL/YEAR/00001) in date order to the
// moves posted at least once; the others keep "/".
func (g *gen) nameMoves(specs []moveSpec) {
	d := g.d
	order := make([]int, len(specs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return specs[a].day - specs[b].day })
	counters := map[string]int{}
	for _, i := range order {
		mv := &d.Moves[i]
		if !mv.PostedBefore {
			mv.Name = "/"
			continue
		}
		code := d.Journals[mv.JournalID-1].Code
		if strings.HasSuffix(mv.MoveType, "_refund") {
			code = "R" + code
		}
		key := code + "/" + mv.Date[:4] + "/" + strconv.FormatInt(mv.CompanyID, 10)
		counters[key]++
		var b []byte
		b = append(b, code...)
		b = append(b, '/')
		b = append(b, mv.Date[:4]...)
		b = append(b, '/')
		num := strconv.Itoa(counters[key])
		for k := len(num); k < 5; k++ {
			b = append(b, '0')
		}
		b = append(b, num...)
		mv.Name = string(b)
		if mv.MoveType == "out_invoice" && mv.PaymentReference == "" {
			mv.PaymentReference = mv.Name
		}
	}
}

// archivePartners archives about 8% of the partners, making sure that some
// archived partners still have unpaid posted documents, local and foreign.
func (g *gen) archivePartners() {
	d := g.d
	type cat struct {
		moveType string
		local    bool
	}
	unpaid := map[cat][]int64{}
	seen := map[int64]bool{}
	for i := range d.Moves {
		mv := &d.Moves[i]
		if mv.State != "posted" || (mv.PaymentState != "not_paid" && mv.PaymentState != "partial") || mv.PartnerID == 0 {
			continue
		}
		p := &d.Partners[mv.CommercialPartnerID-1]
		if p.CountryID == 0 || seen[mv.PartnerID] {
			continue
		}
		c := cat{mv.MoveType, p.CountryID == d.Companies[mv.CompanyID-1].CountryID}
		unpaid[c] = append(unpaid[c], mv.PartnerID)
		seen[mv.PartnerID] = true
	}
	for i := 3; i < len(d.Partners); i++ {
		if g.chance(0.08) {
			d.Partners[i].Active = false
		}
	}
	for _, c := range []cat{{"in_invoice", true}, {"in_invoice", false}, {"out_invoice", true}, {"out_invoice", false}} {
		ids := unpaid[c]
		if len(ids) == 0 {
			continue
		}
		archived := false
		for _, id := range ids {
			if !d.Partners[id-1].Active {
				archived = true
			}
		}
		if !archived {
			d.Partners[ids[g.rng.IntN(len(ids))]-1].Active = false
		}
	}
	for i := range d.Partners {
		if !d.Partners[i].Active {
			d.Partners[i].WriteDate = "2025-06-30 18:00:00"
		}
	}
}

func (g *gen) ranks() {
	d := g.d
	for i := range d.Moves {
		mv := &d.Moves[i]
		if mv.State != "posted" || mv.CommercialPartnerID == 0 {
			continue
		}
		p := &d.Partners[mv.CommercialPartnerID-1]
		switch {
		case strings.HasPrefix(mv.MoveType, "out_"):
			p.CustomerRank++
		case strings.HasPrefix(mv.MoveType, "in_"):
			p.SupplierRank++
		}
	}
}
