"""The official letters' names by template id, as a person reads them (the portal's lookup and the
staff console name the letters notify sends with these)."""

LETTER_NAMES = {
    "mau-01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "mau-02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "mau-03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    "mau-04": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    "mau-05": "Phiếu kiểm soát quá trình giải quyết hồ sơ",
    "mau-06": "Sổ theo dõi hồ sơ",
    "tb-khong-giai-quyet": "Thông báo không giải quyết hồ sơ",
    "tb-dung-giai-quyet": "Thông báo dừng giải quyết hồ sơ",
}
