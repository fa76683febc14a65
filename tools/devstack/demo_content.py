"""The demo district's news articles and directive documents (the text people read: Vietnamese).

`{nam}` and `{thang}` in a text stand for the year and month of the item's own date (its
`days_ago` before the seeding day), so the texts fit whatever day the demo is seeded on.
"""

from __future__ import annotations

from typing import Any

DISTRICT = "264"
THUA, AN_THINH, TRUNG_KENH, PHU_HOA, TAN_LANG, LAI_HA = "09496", "09499", "09502", "09505", "09511", "09520"

# Each article: unit, category, title, summary, body (Markdown), tags, days_ago (when its story
# happened: articles are published in that order, the oldest first).
ARTICLES: list[dict[str, Any]] = [
    {
        "unit": DISTRICT,
        "category": "Cải cách hành chính",
        "title": "Bộ phận Một cửa huyện Lương Tài tiếp nhận hồ sơ trực tuyến qua cổng thông tin mới",
        "summary": "Từ tháng {thang}/{nam}, người dân và doanh nghiệp trên địa bàn huyện có thể nộp hồ sơ, "
        "tra cứu tình trạng và nhận kết quả giải quyết thủ tục hành chính ngay trên cổng thông tin điện tử "
        "của huyện.",
        "body": "Cổng thông tin điện tử huyện Lương Tài chính thức kết nối với hệ thống một cửa điện tử, "
        "cho phép nộp trực tuyến các thủ tục thuộc lĩnh vực hộ tịch, chứng thực, đăng ký kinh doanh và xây "
        "dựng.\n\n"
        "Mỗi hồ sơ được cấp một mã số và một mã tra cứu riêng. Người nộp theo dõi từng bước xử lý, "
        "nhận thông báo qua thư điện tử và được báo trước ngày hẹn trả kết quả.\n\n"
        "Bộ phận Tiếp nhận và Trả kết quả huyện vẫn tiếp nhận hồ sơ trực tiếp tại quầy trong giờ hành chính "
        "cho những người chưa quen sử dụng dịch vụ trực tuyến.",
        "tags": ["dịch vụ công trực tuyến", "một cửa"],
        "days_ago": 150,
    },
    {
        "unit": DISTRICT,
        "category": "Tin tức - sự kiện",
        "title": "Hội nghị triển khai nhiệm vụ cải cách hành chính của huyện Lương Tài",
        "summary": "UBND huyện tổ chức hội nghị quán triệt các chỉ tiêu cải cách hành chính, "
        "trọng tâm là giải quyết hồ sơ đúng hạn và tăng tỷ lệ nộp trực tuyến.",
        "body": "Dự hội nghị có lãnh đạo các phòng chuyên môn và Chủ tịch UBND 14 xã, thị trấn. "
        "Hội nghị đã đánh giá kết quả giải quyết thủ tục hành chính, chỉ ra những hồ sơ còn trễ hạn "
        "và nguyên nhân.\n\n"
        "UBND huyện yêu cầu mỗi đơn vị công khai đầy đủ thủ tục, không yêu cầu người dân nộp thêm giấy tờ "
        "ngoài quy định và xin lỗi bằng văn bản khi hồ sơ quá hạn.",
        "tags": ["cải cách hành chính", "hội nghị"],
        "days_ago": 138,
    },
    {
        "unit": THUA,
        "category": "Cải cách hành chính",
        "title": "Thị trấn Thứa ra mắt Tổ công nghệ số cộng đồng",
        "summary": "Các tổ công nghệ số tại 9 khu phố hướng dẫn người dân cài đặt ứng dụng và nộp hồ sơ "
        "trực tuyến.",
        "body": "Mỗi tổ gồm cán bộ khu phố, đoàn viên thanh niên và công an khu vực. Trong tháng đầu, "
        "các tổ đã đến từng hộ gia đình hướng dẫn đăng ký tài khoản và tra cứu hồ sơ.\n\n"
        "UBND thị trấn bố trí máy tính tại Bộ phận Một cửa để người dân tự nộp hồ sơ với sự hỗ trợ của cán "
        "bộ.",
        "tags": ["chuyển đổi số", "thị trấn Thứa"],
        "days_ago": 126,
    },
    {
        "unit": DISTRICT,
        "category": "Kinh tế",
        "title": "Đăng ký hộ kinh doanh trực tuyến: rút ngắn thời gian còn 3 ngày làm việc",
        "summary": "Phòng Tài chính – Kế hoạch huyện giải quyết hồ sơ đăng ký hộ kinh doanh trong 3 ngày "
        "làm việc, "
        "nhiều hồ sơ được trả trước hạn.",
        "body": "Người đăng ký chỉ cần nộp giấy đề nghị và bản sao giấy tờ pháp lý của chủ hộ. "
        "Kết quả được gửi qua bưu điện hoặc trả tại Bộ phận Một cửa huyện theo lựa chọn của người nộp.\n\n"
        "Phòng Tài chính – Kế hoạch khuyến nghị các hộ kinh doanh kiểm tra kỹ tên và ngành nghề trước khi "
        "nộp "
        "để tránh phải bổ sung hồ sơ.",
        "tags": ["hộ kinh doanh", "đăng ký kinh doanh"],
        "days_ago": 117,
    },
    {
        "unit": AN_THINH,
        "category": "Văn hoá - xã hội",
        "title": "Xã An Thịnh trao quà cho các gia đình chính sách",
        "summary": "UBND xã An Thịnh phối hợp với Mặt trận Tổ quốc xã thăm hỏi, tặng quà các gia đình có "
        "công "
        "và hộ có hoàn cảnh khó khăn.",
        "body": "Đoàn công tác đã đến thăm 45 gia đình chính sách tại các thôn, động viên các gia đình "
        "vượt qua khó khăn, ổn định cuộc sống.\n\n"
        "Xã cũng rà soát, hướng dẫn các đối tượng bảo trợ xã hội làm thủ tục hưởng trợ cấp hằng tháng theo "
        "quy định.",
        "tags": ["an sinh xã hội", "An Thịnh"],
        "days_ago": 108,
    },
    {
        "unit": DISTRICT,
        "category": "Chỉ đạo điều hành",
        "title": "UBND huyện yêu cầu xin lỗi người dân khi giải quyết hồ sơ trễ hạn",
        "summary": "Mọi hồ sơ quá hạn phải có văn bản xin lỗi và hẹn lại ngày trả kết quả gửi người dân.",
        "body": "Thực hiện Nghị định 61/2018/NĐ-CP, UBND huyện yêu cầu các phòng chuyên môn và UBND các xã, "
        "thị trấn theo dõi thời hạn của từng hồ sơ trên hệ thống, chủ động báo cáo khi có nguy cơ trễ "
        "hạn.\n\n"
        "Trường hợp phải gia hạn, đơn vị gửi phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) "
        "trước thời hạn ghi trên giấy tiếp nhận.",
        "tags": ["kỷ cương hành chính", "trễ hạn"],
        "days_ago": 99,
    },
    {
        "unit": TRUNG_KENH,
        "category": "Tin tức - sự kiện",
        "title": "Trung Kênh hoàn thành rà soát dữ liệu hộ tịch",
        "summary": "Hơn 12.000 trường hợp khai sinh, kết hôn, khai tử đã được đối chiếu và cập nhật vào "
        "cơ sở dữ liệu hộ tịch điện tử.",
        "body": "Công chức tư pháp – hộ tịch xã đã số hóa các sổ hộ tịch từ năm 1990 đến nay, "
        "phục vụ việc cấp bản sao trích lục nhanh chóng cho người dân.\n\n"
        "Người dân cần bản sao trích lục có thể nộp hồ sơ trực tuyến và nhận kết quả trong ngày.",
        "tags": ["hộ tịch", "số hóa"],
        "days_ago": 92,
    },
    {
        "unit": DISTRICT,
        "category": "Thông báo",
        "title": "Thông báo lịch làm việc của Bộ phận Một cửa huyện dịp Quốc khánh",
        "summary": "Bộ phận Tiếp nhận và Trả kết quả huyện nghỉ theo lịch nghỉ lễ chung; "
        "hồ sơ nộp trực tuyến trong những ngày nghỉ được tiếp nhận vào ngày làm việc tiếp theo.",
        "body": "Thời hạn giải quyết hồ sơ không tính các ngày nghỉ lễ theo quy định. "
        "Người dân có thể tra cứu ngày hẹn trả kết quả chính xác trên cổng thông tin bằng mã hồ sơ và mã "
        "tra cứu.",
        "tags": ["lịch làm việc"],
        "days_ago": 84,
    },
    {
        "unit": THUA,
        "category": "Văn hoá - xã hội",
        "title": "Thị trấn Thứa tổ chức tổng vệ sinh môi trường các khu phố",
        "summary": "Hàng trăm người dân và đoàn viên thanh niên tham gia dọn dẹp đường làng, kênh mương.",
        "body": "Hoạt động nằm trong kế hoạch xây dựng đô thị văn minh của thị trấn. "
        "Các khu phố đã thu gom rác thải, phát quang bụi rậm và trồng thêm cây xanh.\n\n"
        "UBND thị trấn sẽ duy trì tổng vệ sinh vào sáng Chủ nhật cuối tháng.",
        "tags": ["môi trường", "thị trấn Thứa"],
        "days_ago": 76,
    },
    {
        "unit": DISTRICT,
        "category": "Kinh tế",
        "title": "Cấp giấy phép xây dựng nhà ở riêng lẻ: những điều người dân cần biết",
        "summary": "Phòng Kinh tế và Hạ tầng hướng dẫn hồ sơ, thời hạn và cách nộp hồ sơ xin cấp phép xây "
        "dựng.",
        "body": "Hồ sơ gồm đơn đề nghị, bản sao giấy chứng nhận quyền sử dụng đất và hai bộ bản vẽ thiết kế. "
        "Thời hạn giải quyết là 15 ngày kể từ ngày nhận đủ hồ sơ hợp lệ.\n\n"
        "Người dân nên nộp trực tuyến để theo dõi tiến độ và nhận thông báo khi cần bổ sung giấy tờ.",
        "tags": ["xây dựng", "giấy phép"],
        "days_ago": 68,
    },
    {
        "unit": TAN_LANG,
        "category": "Quốc phòng - an ninh",
        "title": "Tân Lãng diễn tập phòng cháy, chữa cháy tại khu dân cư",
        "summary": "Buổi diễn tập giúp người dân nắm vững cách xử lý khi xảy ra cháy trong mùa hanh khô.",
        "body": "Lực lượng dân phòng xã phối hợp với Công an huyện tổ chức diễn tập tình huống cháy nhà dân, "
        "hướng dẫn sử dụng bình chữa cháy và thoát nạn an toàn.\n\n"
        "UBND xã đề nghị các hộ gia đình kiểm tra hệ thống điện, không để chất dễ cháy gần bếp.",
        "tags": ["phòng cháy chữa cháy", "Tân Lãng"],
        "days_ago": 61,
    },
    {
        "unit": DISTRICT,
        "category": "Cải cách hành chính",
        "title": "Tỷ lệ hồ sơ giải quyết đúng hạn của huyện đạt trên 95%",
        "summary": "Số liệu thống kê trên cổng thông tin cho thấy phần lớn hồ sơ được giải quyết trước hoặc "
        "đúng hạn.",
        "body": "Trang Thống kê của cổng thông tin công khai số hồ sơ tiếp nhận trực tuyến, tại quầy, "
        "số hồ sơ giải quyết trước hạn, đúng hạn và trễ hạn theo từng tháng và từng đơn vị.\n\n"
        "UBND huyện sẽ dùng số liệu này để đánh giá, xếp loại công tác cải cách hành chính của các đơn vị.",
        "tags": ["thống kê", "đúng hạn"],
        "days_ago": 53,
    },
    {
        "unit": LAI_HA,
        "category": "Văn hoá - xã hội",
        "title": "Lai Hạ khai giảng lớp tin học cho người cao tuổi",
        "summary": "Lớp học miễn phí giúp người cao tuổi sử dụng điện thoại thông minh để tra cứu thông tin "
        "và "
        "nộp hồ sơ trực tuyến.",
        "body": "Các học viên được hướng dẫn cách gọi video, đọc tin tức và tra cứu tình trạng hồ sơ "
        "trên cổng thông tin của huyện.\n\n"
        "Lớp học do Đoàn Thanh niên xã phối hợp với Hội Người cao tuổi tổ chức vào tối thứ Năm hằng tuần.",
        "tags": ["chuyển đổi số", "người cao tuổi"],
        "days_ago": 46,
    },
    {
        "unit": DISTRICT,
        "category": "Tin tức - sự kiện",
        "title": "Lãnh đạo huyện đối thoại với người dân về thủ tục đất đai",
        "summary": "Buổi đối thoại tập trung vào thủ tục đăng ký đất đai, cấp giấy chứng nhận quyền sử dụng "
        "đất.",
        "body": "Người dân nêu nhiều ý kiến về thời gian giải quyết và giấy tờ phải nộp. "
        "Lãnh đạo UBND huyện và Phòng Tài nguyên và Môi trường đã trả lời trực tiếp từng ý kiến.\n\n"
        "Các kiến nghị chưa trả lời tại buổi đối thoại sẽ được trả lời bằng văn bản và đăng trên cổng thông "
        "tin.",
        "tags": ["đối thoại", "đất đai"],
        "days_ago": 39,
    },
    {
        "unit": PHU_HOA,
        "category": "Kinh tế",
        "title": "Phú Hòa mở rộng diện tích lúa chất lượng cao",
        "summary": "Vụ này, xã Phú Hòa gieo cấy hơn 300 ha lúa chất lượng cao theo hướng liên kết tiêu thụ.",
        "body": "Các hợp tác xã đã ký hợp đồng bao tiêu sản phẩm với doanh nghiệp, "
        "giúp nông dân yên tâm sản xuất.\n\n"
        "UBND xã tiếp tục hướng dẫn các hộ đăng ký kinh doanh và chứng thực hợp đồng liên kết tại Bộ phận "
        "Một cửa xã.",
        "tags": ["nông nghiệp", "Phú Hòa"],
        "days_ago": 32,
    },
    {
        "unit": THUA,
        "category": "Thông báo",
        "title": "Thị trấn Thứa tiếp nhận hồ sơ vào sáng thứ Bảy",
        "summary": "Bộ phận Một cửa thị trấn mở cửa sáng thứ Bảy để phục vụ người dân đi làm trong tuần.",
        "body": "Trong buổi sáng thứ Bảy, Bộ phận Một cửa tiếp nhận hồ sơ hộ tịch và chứng thực, "
        "trả kết quả các hồ sơ đã có kết quả.\n\n"
        "Thời hạn giải quyết vẫn tính theo ngày làm việc; hồ sơ nhận sáng thứ Bảy được tính từ ngày làm "
        "việc tiếp theo.",
        "tags": ["lịch làm việc", "thị trấn Thứa"],
        "days_ago": 25,
    },
    {
        "unit": DISTRICT,
        "category": "Cải cách hành chính",
        "title": "Tra cứu hồ sơ và đánh giá mức độ hài lòng trên cổng thông tin",
        "summary": "Sau khi nhận kết quả, người dân có thể đánh giá việc giải quyết hồ sơ ngay trên trang "
        "tra cứu.",
        "body": "Mỗi hồ sơ được đánh giá một lần theo bốn tiêu chí: mức độ hài lòng chung, thời gian giải "
        "quyết, "
        "thái độ của cán bộ và sự thuận tiện.\n\n"
        "Kết quả đánh giá được tổng hợp công khai trên trang Thống kê, không kèm thông tin cá nhân của "
        "người đánh giá.",
        "tags": ["đánh giá", "hài lòng"],
        "days_ago": 18,
    },
    {
        "unit": AN_THINH,
        "category": "Chỉ đạo điều hành",
        "title": "An Thịnh triển khai kế hoạch chuyển đổi số",
        "summary": "Xã đặt mục tiêu đa số hồ sơ hộ tịch được nộp trực tuyến và mọi thôn có tổ công nghệ số.",
        "body": "UBND xã giao công chức văn phòng – thống kê theo dõi, báo cáo tiến độ hằng tháng. "
        "Các thôn tổ chức hướng dẫn người dân tại nhà văn hóa vào buổi tối.\n\n"
        "Kế hoạch cũng đề ra việc số hóa toàn bộ hồ sơ lưu trữ của xã.",
        "tags": ["chuyển đổi số", "An Thịnh"],
        "days_ago": 12,
    },
    {
        "unit": TRUNG_KENH,
        "category": "Thông báo",
        "title": "Trung Kênh niêm yết danh sách đối tượng hưởng trợ cấp xã hội",
        "summary": "Danh sách được niêm yết tại trụ sở UBND xã và nhà văn hóa các thôn trong 7 ngày.",
        "body": "Người dân có ý kiến về danh sách gửi về UBND xã trong thời gian niêm yết. "
        "Hồ sơ đề nghị hưởng trợ cấp được chuyển lên Phòng Lao động – Thương binh và Xã hội huyện sau khi "
        "hết thời gian niêm yết.",
        "tags": ["trợ cấp xã hội", "Trung Kênh"],
        "days_ago": 7,
    },
    {
        "unit": DISTRICT,
        "category": "Tin tức - sự kiện",
        "title": "Huyện Lương Tài sơ kết hoạt động của Trung tâm Hành chính công",
        "summary": "Sau năm tháng vận hành hệ thống một cửa điện tử, hàng nghìn lượt hồ sơ đã được tiếp "
        "nhận và "
        "giải quyết trên hệ thống.",
        "body": "Hội nghị ghi nhận tỷ lệ hồ sơ nộp trực tuyến tăng đều qua từng tháng, "
        "thời gian giải quyết nhiều thủ tục được rút ngắn.\n\n"
        "UBND huyện đề nghị các xã, thị trấn tiếp tục công khai kết quả giải quyết và trả lời kịp thời "
        "phản ánh, kiến nghị của người dân.",
        "tags": ["một cửa", "sơ kết"],
        "days_ago": 2,
    },
]

# Each directive document: unit, doc_type, number, summary (trích yếu), days_ago (issued), and
# optionally `effective_days_ago`, `legal_status`, `replaces` (the index of an earlier one), `body`.
DOCUMENTS: list[dict[str, Any]] = [
    {
        "unit": DISTRICT,
        "doc_type": "Quyết định",
        "number": "412/QĐ-UBND",
        "summary": "Công bố Danh mục thủ tục hành chính tiếp nhận tại Bộ phận Tiếp nhận và Trả kết quả "
        "huyện Lương Tài",
        "days_ago": 148,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Kế hoạch",
        "number": "96/KH-UBND",
        "summary": "Kế hoạch cải cách hành chính huyện Lương Tài năm {nam}",
        "days_ago": 140,
    },
    {
        "unit": THUA,
        "doc_type": "Quyết định",
        "number": "58/QĐ-UBND",
        "summary": "Thành lập Tổ công nghệ số cộng đồng tại các khu phố thị trấn Thứa",
        "days_ago": 130,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Công văn",
        "number": "1187/UBND-VP",
        "summary": "V/v đẩy mạnh tiếp nhận, giải quyết hồ sơ trực tuyến trên cổng thông tin điện tử huyện",
        "days_ago": 121,
    },
    {
        "unit": TRUNG_KENH,
        "doc_type": "Quyết định",
        "number": "37/QĐ-UBND",
        "summary": "Công bố thủ tục hành chính thực hiện tại Bộ phận Một cửa xã Trung Kênh",
        "days_ago": 114,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Chỉ thị",
        "number": "05/CT-UBND",
        "summary": "Về tăng cường kỷ luật, kỷ cương hành chính trong giải quyết thủ tục hành chính",
        "days_ago": 105,
    },
    {
        "unit": AN_THINH,
        "doc_type": "Kế hoạch",
        "number": "42/KH-UBND",
        "summary": "Kế hoạch chuyển đổi số xã An Thịnh năm {nam}",
        "days_ago": 97,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Hướng dẫn",
        "number": "14/HD-UBND",
        "summary": "Quy trình tiếp nhận, luân chuyển hồ sơ giữa Bộ phận Một cửa huyện và các phòng chuyên "
        "môn",
        "days_ago": 89,
    },
    {
        "unit": THUA,
        "doc_type": "Thông báo",
        "number": "71/TB-UBND",
        "summary": "Về việc tiếp nhận hồ sơ đăng ký khai sinh, khai tử trực tuyến tại thị trấn Thứa",
        "days_ago": 82,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Thông báo",
        "number": "233/TB-UBND",
        "summary": "Lịch tiếp công dân định kỳ của Chủ tịch UBND huyện tháng {thang}/{nam}",
        "days_ago": 74,
    },
    {
        "unit": TAN_LANG,
        "doc_type": "Kế hoạch",
        "number": "29/KH-UBND",
        "summary": "Kế hoạch phòng cháy, chữa cháy mùa hanh khô trên địa bàn xã Tân Lãng",
        "days_ago": 66,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Kế hoạch",
        "number": "131/KH-UBND",
        "summary": "Tuyên truyền, hướng dẫn người dân và doanh nghiệp sử dụng dịch vụ công trực tuyến",
        "days_ago": 58,
    },
    {
        "unit": TRUNG_KENH,
        "doc_type": "Công văn",
        "number": "88/UBND-TP",
        "summary": "V/v rà soát, làm sạch dữ liệu hộ tịch trên địa bàn xã Trung Kênh",
        "days_ago": 51,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Quyết định",
        "number": "1536/QĐ-UBND",
        "summary": "Công bố Danh mục thủ tục hành chính tiếp nhận tại Bộ phận Tiếp nhận và Trả kết quả huyện "
        "Lương Tài (thay thế Quyết định số 412/QĐ-UBND)",
        "days_ago": 44,
        "replaces": 0,
    },
    {
        "unit": LAI_HA,
        "doc_type": "Thông báo",
        "number": "45/TB-UBND",
        "summary": "Niêm yết công khai danh sách đề nghị hưởng trợ cấp xã hội hằng tháng",
        "days_ago": 37,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Báo cáo",
        "number": "318/BC-UBND",
        "summary": "Kết quả giải quyết thủ tục hành chính và việc xin lỗi người dân khi hồ sơ trễ hạn",
        "days_ago": 30,
    },
    {
        "unit": PHU_HOA,
        "doc_type": "Kế hoạch",
        "number": "51/KH-UBND",
        "summary": "Tổ chức Ngày hội Đại đoàn kết toàn dân tộc ở các thôn xã Phú Hòa",
        "days_ago": 23,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Công văn",
        "number": "1702/UBND-TCKH",
        "summary": "V/v triển khai thu phí, lệ phí giải quyết thủ tục hành chính không dùng tiền mặt",
        "days_ago": 16,
    },
    {
        "unit": AN_THINH,
        "doc_type": "Thông báo",
        "number": "63/TB-UBND",
        "summary": "Lịch tiếp công dân của Chủ tịch UBND xã An Thịnh tháng {thang}/{nam}",
        "days_ago": 9,
    },
    {
        "unit": DISTRICT,
        "doc_type": "Quyết định",
        "number": "1811/QĐ-UBND",
        "summary": "Kiện toàn Tổ công tác rà soát, đơn giản hóa thủ tục hành chính huyện Lương Tài",
        "days_ago": 4,
    },
]

# The body of a document's PDF, by type, after its trích yếu (`{unit}`: the issuing unit's name).
DOCUMENT_BODIES: dict[str, list[str]] = {
    "Quyết định": [
        "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
        "Căn cứ Nghị định số 61/2018/NĐ-CP ngày 23 tháng 4 năm 2018 của Chính phủ về thực hiện cơ chế "
        "một cửa, một cửa liên thông trong giải quyết thủ tục hành chính;",
        "Xét đề nghị của Văn phòng,",
        "QUYẾT ĐỊNH:",
        "Điều 1. {summary}.",
        "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
        "Điều 3. Văn phòng, thủ trưởng các cơ quan, đơn vị và cá nhân có liên quan chịu trách nhiệm "
        "thi hành Quyết định này.",
    ],
    "Kế hoạch": [
        "I. MỤC ĐÍCH, YÊU CẦU",
        "Thực hiện hiệu quả nhiệm vụ được giao; phân công rõ người, rõ việc, rõ thời hạn hoàn thành.",
        "II. NỘI DUNG THỰC HIỆN",
        "Các bộ phận chuyên môn, các thôn, khu phố tổ chức triển khai theo nội dung kế hoạch; "
        "định kỳ hằng tháng báo cáo kết quả về {unit}.",
        "III. TỔ CHỨC THỰC HIỆN",
        "Văn phòng theo dõi, đôn đốc và tổng hợp báo cáo kết quả thực hiện kế hoạch.",
    ],
    "Công văn": [
        "Kính gửi: Các cơ quan, đơn vị và cá nhân có liên quan.",
        "Để nâng cao chất lượng phục vụ người dân và doanh nghiệp, {unit} đề nghị các cơ quan, đơn vị "
        "khẩn trương triển khai nội dung nêu trên, báo cáo kết quả trước ngày 25 hằng tháng.",
        "Trong quá trình thực hiện, nếu có vướng mắc, đề nghị phản ánh về Văn phòng để được hướng dẫn.",
    ],
    "Thông báo": [
        "{unit} thông báo để cơ quan, đơn vị và nhân dân được biết, thực hiện.",
        "Thông tin chi tiết liên hệ Bộ phận Tiếp nhận và Trả kết quả trong giờ hành chính.",
    ],
    "Chỉ thị": [
        "Thời gian qua, công tác giải quyết thủ tục hành chính đã có chuyển biến tích cực; tuy nhiên "
        "vẫn còn hồ sơ giải quyết trễ hạn, chưa xin lỗi người dân theo quy định.",
        "Chủ tịch {unit} yêu cầu thủ trưởng các cơ quan, đơn vị nghiêm túc thực hiện các nội dung sau: "
        "giải quyết hồ sơ đúng thời hạn; không yêu cầu thêm giấy tờ ngoài quy định; công khai kết quả "
        "giải quyết trên cổng thông tin.",
    ],
    "Hướng dẫn": [
        "1. Bộ phận Một cửa tiếp nhận, kiểm tra hồ sơ, cập nhật vào hệ thống và chuyển phòng chuyên môn "
        "trong ngày làm việc.",
        "2. Phòng chuyên môn phân công chuyên viên thẩm định, trình lãnh đạo phê duyệt kết quả.",
        "3. Kết quả được chuyển về Bộ phận Một cửa để trả cho người dân đúng ngày hẹn.",
    ],
    "Báo cáo": [
        "I. KẾT QUẢ ĐẠT ĐƯỢC",
        "Các đơn vị đã tiếp nhận và giải quyết hồ sơ trên hệ thống một cửa điện tử; số liệu chi tiết "
        "được công khai trên trang Thống kê của cổng thông tin.",
        "II. TỒN TẠI, HẠN CHẾ",
        "Một số hồ sơ còn giải quyết trễ hạn do phải xác minh; các đơn vị đã gửi văn bản xin lỗi người dân.",
    ],
}
